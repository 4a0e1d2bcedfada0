import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { formatSpecError } from "../../src/spec/index.js";
import {
  addAdoptEntry,
  adoptEntriesFor,
  loadProjectConfig,
  type ProjectConfig,
  parseProjectConfig,
  removeAdoptEntries,
  selectTarget,
} from "../../src/spec/project-config.js";
import { FIXTURE_ROOT, writeRepo, yaml } from "./helpers.js";

/** The errors of a reconcile.yaml, as printed. */
async function configErrors(text: string): Promise<string[]> {
  const { errors } = await loadProjectConfig(await writeRepo({ "reconcile.yaml": text }));
  return errors.map(formatSpecError);
}

describe("loadProjectConfig", () => {
  test("without reconcile.yaml: stack default, no prune, half the stack at most, one implicit target", async () => {
    expect(await loadProjectConfig(await writeRepo({}))).toEqual({
      config: {
        stack: "default",
        file: null,
        prune: false,
        secret_env: [],
        max_prune_share: 0.5,
        targets: [
          {
            name: "default",
            api_key_env: "ANTHROPIC_API_KEY",
            workspace_id: null,
            base_url: null,
            values: {},
            secret_env: [],
            reserved_env: ["ANTHROPIC_API_KEY"],
            source: null,
          },
        ],
        default_target: "default",
        adopt: [],
        ignore: [],
      },
      errors: [],
    });
  });

  test("the test fleet's reconcile.yaml is valid", async () => {
    const { config, errors } = await loadProjectConfig(FIXTURE_ROOT);
    expect(errors).toEqual([]);
    expect(config).toMatchObject({ stack: "example-fleet", file: "reconcile.yaml", default_target: "default" });
  });

  test("reads every setting, targets in file order, with their locations", async () => {
    const root = await writeRepo({
      "reconcile.yaml": yaml(
        "# the fleet",
        "stack: example-fleet # owned resources are tagged with it",
        "prune: true",
        "secret_env: [DESK_TOKEN]",
        "max_prune_share: 0.25",
        "default_target: staging",
        "targets:",
        "  staging:",
        "    api_key_env: ANTHROPIC_API_KEY_STAGING",
        "    workspace_id: wrkspc_01staging",
        "    base_url: https://api.staging.example.com",
        "    values:",
        "      model: claude-haiku-4-5",
        "  production:",
        "    secret_env: [PROD_DESK_TOKEN]",
        "    values: {model: claude-sonnet-4-6}",
        "adopt:",
        "  - address: agent.export-support",
        "    id: agent_011CZkq8mD1fJ3rXcE6Tw9hV",
        "  - {address: credential.support-vault/desk-token, id: vcrd_011CZk}",
        "ignore: [k8s/**, docker-compose.yml]",
      ),
    });
    expect(await loadProjectConfig(root)).toEqual({
      config: {
        stack: "example-fleet",
        file: "reconcile.yaml",
        prune: true,
        secret_env: ["DESK_TOKEN"],
        max_prune_share: 0.25,
        targets: [
          {
            name: "staging",
            api_key_env: "ANTHROPIC_API_KEY_STAGING",
            workspace_id: "wrkspc_01staging",
            base_url: "https://api.staging.example.com",
            values: { model: "claude-haiku-4-5" },
            secret_env: ["DESK_TOKEN"],
            reserved_env: ["ANTHROPIC_API_KEY_STAGING", "ANTHROPIC_API_KEY"],
            source: { file: "reconcile.yaml", line: 8, col: 3 },
          },
          {
            name: "production",
            api_key_env: "ANTHROPIC_API_KEY",
            workspace_id: null,
            base_url: null,
            values: { model: "claude-sonnet-4-6" },
            secret_env: ["PROD_DESK_TOKEN"],
            reserved_env: ["ANTHROPIC_API_KEY_STAGING", "ANTHROPIC_API_KEY"],
            source: { file: "reconcile.yaml", line: 14, col: 3 },
          },
        ],
        default_target: "staging",
        adopt: [
          {
            address: "agent.export-support",
            id: "agent_011CZkq8mD1fJ3rXcE6Tw9hV",
            source: { file: "reconcile.yaml", line: 18, col: 5 },
          },
          {
            address: "credential.support-vault/desk-token",
            id: "vcrd_011CZk",
            source: { file: "reconcile.yaml", line: 20, col: 5 },
          },
        ],
        ignore: [
          { pattern: "k8s/**", source: { file: "reconcile.yaml", line: 21, col: 10 } },
          { pattern: "docker-compose.yml", source: { file: "reconcile.yaml", line: 21, col: 18 } },
        ],
      },
      errors: [],
    });
  });

  test("the default target: the only one declared, or none to choose from several", async () => {
    const one = parseProjectConfig(yaml("stack: s", "targets:", "  staging: {}"));
    expect([one.errors, one.config.default_target]).toEqual([[], "staging"]);
    const two = parseProjectConfig(yaml("stack: s", "targets:", "  a: {}", "  b: {}"));
    expect([two.errors, two.config.default_target]).toEqual([[], null]);
  });

  test("an unknown setting is located at its key, with a suggestion", async () => {
    expect(await configErrors(yaml("stack: s", "", "prun: true"))).toEqual([
      'reconcile.yaml:3:1: unknown field "prun" (did you mean "prune"?)',
    ]);
  });

  test("a bad or missing stack", async () => {
    expect(await configErrors(yaml("# x", "stack: Support_Agents"))).toEqual([
      "reconcile.yaml:2:8: stack: must be lower-case letters, digits and dashes (at most 63 characters), like `stack: support-agents`",
    ]);
    expect(await configErrors(yaml("prune: true"))).toEqual(['reconcile.yaml:1:1: missing required field "stack"']);
    expect(await configErrors("")).toEqual(['reconcile.yaml:1:1: missing required field "stack"']);
  });

  test("bad target names and target settings", async () => {
    expect(
      await configErrors(
        yaml(
          "stack: s",
          "targets:",
          "  Staging: {}",
          "  prod:",
          "    api_key_env: 1KEY",
          "    base_url: ftp://api.example.com",
          "    values:",
          "      replicas: 3",
          "      export-url: x",
        ),
      ),
    ).toEqual([
      "reconcile.yaml:3:3: targets: key \"Staging\" must be 1-64 lowercase letters, digits and '-', starting and ending with a letter or digit",
      "reconcile.yaml:5:18: targets.prod.api_key_env: must be an environment variable name (letters, digits and _, not starting with a digit), like ANTHROPIC_API_KEY_STAGING",
      "reconcile.yaml:6:15: targets.prod.base_url: must be an http:// or https:// URL",
      "reconcile.yaml:8:17: targets.prod.values.replicas: must be a string, got a number (put it in quotes)",
      'reconcile.yaml:9:7: targets.prod.values: key "export-url" must be a variable name (letters, digits and _, not starting with a digit), like export_mcp_url',
    ]);
  });

  test("max_prune_share is a share between 0 and 1", async () => {
    expect(await configErrors(yaml("stack: s", "max_prune_share: 1.5"))).toEqual([
      "reconcile.yaml:2:18: max_prune_share: must be at most 1",
    ]);
  });

  test("default_target must name a declared target", async () => {
    expect(
      await configErrors(yaml("stack: s", "default_target: stagign", "targets:", "  staging: {}", "  production: {}")),
    ).toEqual([
      'reconcile.yaml:2:17: default_target: "stagign" is not a declared target (did you mean "staging"?); declared targets: staging, production',
    ]);
    expect(await configErrors(yaml("stack: s", "default_target: prod"))).toEqual([
      'reconcile.yaml:2:17: default_target: "prod" names no target: reconcile.yaml declares no targets (declare it under targets:)',
    ]);
  });

  test("bad adopt addresses and ids, and the same address or id twice", async () => {
    expect(
      await configErrors(
        yaml(
          "stack: s",
          "adopt:",
          "  - address: agent.export-support",
          "    id: agent_011A",
          "  - address: robot.x",
          "    id: 'agent 1'",
          "  - address: agent.export-support",
          "    id: agent_011B",
          "  - address: credential.v/c",
          "    id: agent_011A",
          "  - address: vault.v",
        ),
      ),
    ).toEqual([
      "reconcile.yaml:5:14: adopt[1].address: must be a plan address: agent.NAME, environment.NAME, vault.NAME, memory_store.NAME, skill.NAME, deployment.NAME, tunnel.NAME or credential.VAULT/NAME, with spec names",
      "reconcile.yaml:6:9: adopt[1].id: must be a Managed Agents resource id, like agent_011CZkq8mD1fJ3rXcE6Tw9hV",
      'reconcile.yaml:7:14: adopt[2].address: "agent.export-support" is adopted twice (first at line 3)',
      'reconcile.yaml:10:9: adopt[3].id: "agent_011A" is adopted twice (first at line 3, as agent.export-support): one live resource can back one spec only',
      'reconcile.yaml:11:5: adopt[4]: missing required field "id"',
    ]);
  });

  test("adopt entries are per target: one id in two targets is fine, twice in one target is not", async () => {
    const text = yaml(
      "stack: s",
      "targets:",
      "  staging: {}",
      "  production: {}",
      "adopt:",
      "  - address: agent.a",
      "    id: agent_011A",
      "    target: staging",
      "  - address: agent.a",
      "    id: agent_011A",
      "    target: production",
      "  - address: agent.b",
      "    id: agent_011A",
      "    target: production",
      "  - address: agent.c",
      "    id: agent_011C",
    );
    expect(await configErrors(text)).toEqual([
      'reconcile.yaml:13:9: adopt[2].id: "agent_011A" is adopted twice (first at line 9, as agent.a): one live resource can back one spec only',
      "reconcile.yaml:15:5: adopt[3]: several targets are declared (staging, production) and there is no default_target: say which one the id exists in, with target: NAME",
    ]);
    const { config } = parseProjectConfig(text.replace("targets:", "default_target: staging\ntargets:"));
    expect(adoptEntriesFor(config, "staging").map((a) => `${a.address}=${a.id}`)).toEqual([
      "agent.a=agent_011A",
      "agent.c=agent_011C",
    ]);
    expect(adoptEntriesFor(config, "production").map((a) => a.address)).toEqual(["agent.a", "agent.b"]);
  });

  test("--target with a resource address answers with the --only hint", () => {
    const { config } = parseProjectConfig(yaml("stack: s", "targets:", "  staging: {}"));
    expect(() => selectTarget(config, "agent.ops")).toThrow(/use --only agent\.ops/);
    expect(() => selectTarget(config, "stagin")).toThrow(/unknown target "stagin"/);
  });

  test("YAML errors, duplicate keys included, are located", async () => {
    expect(await configErrors(yaml("stack: a", "stack: b"))).toEqual([
      "reconcile.yaml:2:1: invalid YAML: Map keys must be unique",
    ]);
  });
});

describe("selectTarget", () => {
  const config = (text: string): ProjectConfig => parseProjectConfig(text).config;
  const two = yaml("stack: s", "targets:", "  staging: {}", "  production: {}");

  test("--target wins; then default_target; then the only target; the implicit default without targets", () => {
    expect(selectTarget(config(two), "production").name).toBe("production");
    expect(selectTarget(config(`${two}default_target: staging\n`), undefined).name).toBe("staging");
    expect(selectTarget(config(yaml("stack: s", "targets:", "  only: {}")), undefined).name).toBe("only");
    expect(selectTarget(config(yaml("stack: s")), undefined)).toMatchObject({ name: "default", source: null });
  });

  test("an unknown target lists the declared ones", () => {
    expect(() => selectTarget(config(two), "prod")).toThrow(
      new Error('unknown target "prod"; declared targets: staging, production'),
    );
    expect(() => selectTarget(config(two), "stagin")).toThrow(
      new Error('unknown target "stagin" (did you mean "staging"?); declared targets: staging, production'),
    );
    expect(() => selectTarget(config(yaml("stack: s")), "prod")).toThrow(
      new Error(
        'unknown target "prod"; reconcile.yaml declares no targets (declare it under targets:, or leave out --target)',
      ),
    );
  });

  test("several targets and no default_target: pass --target", () => {
    expect(() => selectTarget(config(two), undefined)).toThrow(
      new Error(
        "several targets are declared (staging, production) and reconcile.yaml has no default_target: pass --target NAME",
      ),
    );
  });
});

describe("addAdoptEntry and removeAdoptEntries", () => {
  const original = yaml(
    "# reconcile project configuration",
    "stack: example-fleet # the stack",
    "",
    "# staging first",
    "targets:",
    "  staging:",
    "    values: {model: 'claude-haiku-4-5'}",
  );

  test("adds an entry, keeping every comment and the formatting; again is a no-op; a new id updates it", async () => {
    const root = await writeRepo({ "reconcile.yaml": original });
    const file = path.join(root, "reconcile.yaml");
    const entry = ["adopt:", "  - address: agent.export-support", "    id: agent_011A"];

    expect(await addAdoptEntry(root, "agent.export-support", "agent_011A")).toBe("added");
    expect(await readFile(file, "utf8")).toBe(original + yaml(...entry));
    expect(await addAdoptEntry(root, "agent.export-support", "agent_011A")).toBe("unchanged");
    expect(await readFile(file, "utf8")).toBe(original + yaml(...entry));

    expect(await addAdoptEntry(root, "credential.v/token", "vcrd_011C")).toBe("added");
    expect(await addAdoptEntry(root, "agent.export-support", "agent_011B")).toBe("updated");
    const text = await readFile(file, "utf8");
    expect(text).toBe(
      original +
        yaml(
          "adopt:",
          "  - address: agent.export-support",
          "    id: agent_011B",
          "  - address: credential.v/token",
          "    id: vcrd_011C",
        ),
    );
    const { config, errors } = await loadProjectConfig(root);
    expect(errors).toEqual([]);
    expect(config.adopt.map((a) => [a.address, a.id])).toEqual([
      ["agent.export-support", "agent_011B"],
      ["credential.v/token", "vcrd_011C"],
    ]);

    expect(await removeAdoptEntries(root, ["agent.export-support", "agent.not-there"])).toEqual([
      "agent.export-support",
    ]);
    expect(await removeAdoptEntries(root, ["agent.export-support"])).toEqual([]);
    expect(await removeAdoptEntries(root, ["credential.v/token"])).toEqual(["credential.v/token"]);
    expect(await readFile(file, "utf8")).toBe(original);
  });

  test("an empty flow list becomes a block list", async () => {
    const root = await writeRepo({ "reconcile.yaml": yaml("stack: s", "adopt: [] # none yet") });
    expect(await addAdoptEntry(root, "vault.v", "vlt_011A")).toBe("added");
    const { config, errors } = await loadProjectConfig(root);
    expect([errors, config.adopt.map((a) => a.address)]).toEqual([[], ["vault.v"]]);
    expect(await readFile(path.join(root, "reconcile.yaml"), "utf8")).toContain("  - address: vault.v\n");
  });

  test("a file whose lists sit at their key's indentation keeps that style", async () => {
    const text = yaml("stack: s", "adopt:", "- address: agent.a", "  id: agent_011A");
    const root = await writeRepo({ "reconcile.yaml": text });
    expect(await addAdoptEntry(root, "agent.b", "agent_011B")).toBe("added");
    expect(await readFile(path.join(root, "reconcile.yaml"), "utf8")).toBe(
      text + yaml("- address: agent.b", "  id: agent_011B"),
    );
  });

  test("refuses without reconcile.yaml (the stack is chosen deliberately), and malformed input", async () => {
    const root = await writeRepo({});
    await expect(addAdoptEntry(root, "agent.a", "agent_011A")).rejects.toThrow(/^no reconcile\.yaml at .*stack:/);
    expect(await removeAdoptEntries(root, ["agent.a"])).toEqual([]);

    await writeFile(path.join(root, "reconcile.yaml"), original);
    await expect(addAdoptEntry(root, "robot.a", "agent_011A")).rejects.toThrow(
      'cannot adopt "robot.a": address: must be a plan address: agent.NAME, environment.NAME, vault.NAME, memory_store.NAME, skill.NAME, deployment.NAME, tunnel.NAME or credential.VAULT/NAME, with spec names',
    );
    await expect(addAdoptEntry(root, "agent.a", "")).rejects.toThrow(
      'cannot adopt "agent.a": id: must be a Managed Agents resource id',
    );
    expect(await addAdoptEntry(root, "agent.a", "agent_011A")).toBe("added");
    await expect(addAdoptEntry(root, "agent.b", "agent_011A")).rejects.toThrow(
      "agent_011A is already adopted as agent.a in reconcile.yaml",
    );

    await mkdir(path.join(root, "broken"));
    await writeFile(path.join(root, "broken", "reconcile.yaml"), "stack: [s\n");
    await expect(addAdoptEntry(path.join(root, "broken"), "agent.a", "agent_011A")).rejects.toThrow(
      /^reconcile\.yaml:2:1: invalid YAML/,
    );
    expect(await readFile(path.join(root, "broken", "reconcile.yaml"), "utf8")).toBe("stack: [s\n");
  });
});
