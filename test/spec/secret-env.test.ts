/**
 * Declared secret variables (issue 7 item 5): a credential may read only the `${env:NAME}` variables reconcile.yaml
 * declares under `secret_env:` (per target where it differs), and never a variable holding an API key or a GitHub
 * credential. Checked as `reconcile validate` runs: every target.
 */
import { describe, expect, test } from "vitest";
import { formatSpecError, validateAllTargets } from "../../src/spec/index.js";
import { writeRepo, yaml } from "./helpers.js";

const vault = (...tokens: string[]) =>
  yaml(
    "apiVersion: reconcile/v1",
    "kind: Vault",
    "name: v",
    "credentials:",
    ...tokens.flatMap((token, i) => [
      `  - name: c${i}`,
      "    auth:",
      "      type: static_bearer",
      `      mcp_server_url: https://mcp${i}.example.com/mcp`,
      `      token: ${token}`,
    ]),
  );

async function validate(config: string, files: Record<string, string>): Promise<string[]> {
  const { errors } = await validateAllTargets(await writeRepo({ "reconcile.yaml": config, ...files }));
  return errors.map(formatSpecError);
}

describe("declared secret variables", () => {
  test("a declared variable is fine; an undeclared one fails at its location", async () => {
    const config = yaml("stack: s", "secret_env: [DESK_TOKEN]");
    expect(await validate(config, { "vaults/v.yaml": vault("${env:DESK_TOKEN}") })).toEqual([]);
    expect(await validate(config, { "vaults/v.yaml": vault("${env:DESK_TOKEN}", "${env:OTHER_TOKEN}") })).toEqual([
      "vaults/v.yaml:14:14: Vault/v: credentials[1].auth.token: ${env:OTHER_TOKEN} is not a declared secret variable: add OTHER_TOKEN to secret_env: in reconcile.yaml, so reviewers see which variables the stack reads",
    ]);
  });

  test("without secret_env nothing may be read (fail closed)", async () => {
    expect(await validate(yaml("stack: s"), { "vaults/v.yaml": vault("${env:DESK_TOKEN}") })).toHaveLength(1);
  });

  test("variables holding API keys or GitHub credentials fail even when declared elsewhere", async () => {
    const config = yaml("stack: s", "secret_env: [DESK_TOKEN]", "targets:", "  prod:", "    api_key_env: PROD_KEY");
    const lines = await validate(config, {
      "vaults/v.yaml": vault(
        "${env:ANTHROPIC_API_KEY}",
        "${env:PROD_KEY}",
        "${env:GITHUB_APP_PRIVATE_KEY}",
        "${env:GITHUB_TOKEN}",
        "${env:ACTIONS_ID_TOKEN_REQUEST_TOKEN}",
        "${env:GITHUB_WEBHOOK_SECRET}",
      ),
    });
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(
      "vaults/v.yaml:9:14: Vault/v: credentials[0].auth.token: ${env:ANTHROPIC_API_KEY} may not be read by a spec: ANTHROPIC_API_KEY holds an API key or CI credential. Give the credential its own variable (declared under secret_env: in reconcile.yaml)",
    );
    expect(lines[1]).toContain(
      "vaults/v.yaml:14:14: Vault/v: credentials[1].auth.token: ${env:PROD_KEY} may not be read",
    );
    expect(lines[1]).toContain("holds a target's API key (api_key_env)");
    for (const line of lines.slice(2)) expect(line).toContain("may not be read by a spec");
  });

  test("declaring a reserved variable is itself an error in reconcile.yaml", async () => {
    const config = yaml("stack: s", "secret_env: [DESK_TOKEN, GITHUB_TOKEN]");
    expect(await validate(config, {})).toEqual([
      "reconcile.yaml:2:26: secret_env[1]: GITHUB_TOKEN holds an API key or CI credential: no spec may read it; remove it from the list",
    ]);
  });

  test("a target's own list replaces the top-level one for that target only", async () => {
    const config = yaml(
      "stack: s",
      "secret_env: [DESK_TOKEN]",
      "targets:",
      "  staging: {}",
      "  prod:",
      "    secret_env: [PROD_DESK_TOKEN]",
    );
    expect(await validate(config, { "vaults/v.yaml": vault("${env:DESK_TOKEN}") })).toEqual([
      'vaults/v.yaml:9:14: Vault/v: credentials[0].auth.token: ${env:DESK_TOKEN} is not a declared secret variable of target "prod": add DESK_TOKEN to secret_env: (or targets.prod.secret_env:) in reconcile.yaml, so reviewers see which variables the stack reads',
    ]);
  });

  test("the message never carries a value: a literal in a secret field is refused by the schema, not echoed", async () => {
    const config = yaml("stack: s", "secret_env: [DESK_TOKEN]");
    const lines = await validate(config, { "vaults/v.yaml": vault("canary-literal-9f3b") });
    expect(lines.join("\n")).not.toContain("canary-literal-9f3b");
  });
});
