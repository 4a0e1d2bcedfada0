/**
 * What `reconcile init` writes: a `reconcile.yaml`, one spec of each kind, and a minimal CI workflow. Plain strings,
 * so they ship inside `dist/` with the package. `{{SCHEMAS}}` in a spec is replaced by the path from the spec's
 * folder to the installed package's `schemas/` folder (so editors' `yaml-language-server` modelines resolve), and
 * `{{STACK}}` by the stack name.
 */

/** One file `init` writes: its path relative to the new repository's root, and its text. */
export interface TemplateFile {
  path: string;
  text: string;
}

/**
 * The specs: one per kind (McpToolset, Vault with a credential, Environment, MemoryStore, Skill with its folder,
 * Tunnel, Agent, a paused Deployment), referring to each other.
 */
export const SPEC_TEMPLATES: readonly TemplateFile[] = [
  {
    path: "toolsets/docs.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/mcp-toolset.schema.json
apiVersion: reconcile/v1
kind: McpToolset
name: docs
description: An MCP server the agent may use. Replace the URL with your own server.
url: https://mcp.example.com/mcp
default_permission_policy: always_ask
tools:
  - name: search
    permission_policy: always_allow
`,
  },
  {
    path: "vaults/assistant.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/vault.schema.json
apiVersion: reconcile/v1
kind: Vault
name: assistant
display_name: Assistant credentials
credentials:
  - name: docs-token
    display_name: Token for the docs MCP server
    auth:
      type: static_bearer
      toolset: docs
      # A secret is never written here: apply reads it from the environment (--local uses a placeholder).
      token: \${env:DOCS_MCP_TOKEN}
`,
  },
  {
    path: "environments/sandbox.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/environment.schema.json
apiVersion: reconcile/v1
kind: Environment
name: sandbox
description: Where the agent's sessions run.
config:
  type: cloud
  networking:
    type: limited
    allowed_hosts:
      - mcp.example.com
    allow_mcp_servers: true
`,
  },
  {
    path: "memory-stores/assistant-notes.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/memory-store.schema.json
apiVersion: reconcile/v1
kind: MemoryStore
name: assistant-notes
# The API puts the description in the system prompt of every session the store is attached to: write it for the agent.
description: Questions the documentation did not answer, one file per topic. Check here before searching, and add what you learn.
# Prune archives by default, and archived stores still count toward the workspace's store limit; delete frees it.
on_prune: delete
`,
  },
  {
    path: "skills/docs-style.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/skill.schema.json
apiVersion: reconcile/v1
kind: Skill
name: docs-style
# The skill's folder, relative to this file: a SKILL.md with name and description in its frontmatter, and any files
# it refers to. Apply uploads a new version only when a file in it changed.
path: docs-style
display_name: Docs style
`,
  },
  {
    path: "skills/docs-style/SKILL.md",
    text: `---
name: docs-style
description: How answers about our documentation are written. Use for every answer that cites the documentation.
---

# Docs style

- Answer in at most five sentences, then link the pages you used.
- Quote the documentation exactly when a setting or a command is involved.
- When the documentation does not cover the question, say so and suggest who to ask.
`,
  },
  {
    path: "tunnels/office.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/tunnel.schema.json
apiVersion: reconcile/v1
kind: Tunnel
name: office
# A route to MCP servers in a private network. The API gives the tunnel a domain; a toolset then names the tunnel and
# a host below it instead of a URL (tunnel: office, host: wiki, path: /mcp). Run the tunnel's connector inside the
# network with the token from \`reconcile tunnel token office\`. Delete this file if you have no private MCP server.
display_name: Office network
`,
  },
  {
    path: "agents/assistant.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/agent.schema.json
apiVersion: reconcile/v1
kind: Agent
name: assistant
description: A first agent. Edit this file, run \`reconcile plan\`, then \`reconcile apply\`.
model: claude-sonnet-4-6
system: |
  You answer questions about our documentation. Search it with the docs tools before you answer, and say so when
  the documentation does not cover the question.
toolsets:
  - docs
skills:
  - skill: docs-style
`,
  },
  {
    path: "deployments/assistant-daily.yaml",
    text: `# yaml-language-server: $schema={{SCHEMAS}}/deployment.schema.json
apiVersion: reconcile/v1
kind: Deployment
name: assistant-daily
description: Runs the assistant every weekday morning. Starts paused; run it by hand with \`reconcile deploy run\`.
agent: assistant # pinned to the version this apply leaves the agent at
environment: sandbox
vaults:
  - assistant
message: List the documentation pages changed yesterday and summarise what changed for the support team.
schedule:
  cron: "0 8 * * 1-5" # minute hour day-of-month month day-of-week
  timezone: UTC # an IANA time zone name, such as Europe/Paris
# Set to false (and apply) once the message and the schedule are right; a paused deployment never fires on its own.
paused: true
`,
  },
];

/** `reconcile.yaml`: the stack, and the secret variable the scaffolded credential reads. */
export const CONFIG_TEMPLATE = `# yaml-language-server: $schema={{SCHEMAS}}/project.schema.json
# reconcile project configuration. Every resource reconcile creates is tagged with this stack;
# resources of other stacks are never touched. Choose it once: renaming it orphans what exists.
stack: {{STACK}}
# The environment variables specs may read as secrets (\${env:NAME}); any other is a validation error (docs/secrets.md).
secret_env:
  - DOCS_MCP_TOKEN
`;

/**
 * The CI workflow: validate and plan on every pull request (against the local emulator, so it needs no secret). A
 * starting point only: the GitHub integration (plan comments, apply on merge, drift) has its own workflows.
 */
export const WORKFLOW_TEMPLATE = `# Validates the specs and shows the plan on every pull request.
# The plan runs against reconcile's local emulator (--local), so this workflow needs no API key.
# To plan against your workspace, set the ANTHROPIC_API_KEY secret and drop --local.
name: reconcile
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  plan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 22
          cache: npm
      # Expects reconcile-agents in package.json: npm install --save-dev reconcile-agents
      - run: npm ci
      - run: npx reconcile validate
      - run: npx reconcile plan --local
`;

/** The `.gitignore` line for the local emulator's state and locks. */
export const GITIGNORE_ENTRY = ".reconcile/";
