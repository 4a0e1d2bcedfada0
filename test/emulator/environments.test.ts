import Anthropic from "@anthropic-ai/sdk";
import type { EnvironmentCreateParams } from "@anthropic-ai/sdk/resources/beta/environments/environments.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { expectApiError, sdk, start } from "./helpers.js";

let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

const EMPTY_PACKAGES = { type: "packages", apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] };

describe("environments", () => {
  it("create fills the default config, description, metadata and scope", async () => {
    const e = await client.beta.environments.create({ name: "plain" });
    expect(e.id).toMatch(/^env_011C[0-9A-Za-z]{20}$/);
    const { id, created_at, updated_at, ...rest } = e;
    expect(rest).toEqual({
      type: "environment",
      name: "plain",
      description: null,
      config: { type: "cloud", networking: { type: "unrestricted" }, packages: EMPTY_PACKAGES },
      metadata: {},
      scope: "organization",
      archived_at: null,
    });
    expect(updated_at).toBe(created_at);
  });

  it("limited networking fills its fields; hosts and packages come back sorted", async () => {
    const e = await client.beta.environments.create({
      name: "limited",
      config: {
        type: "cloud",
        networking: {
          type: "limited",
          allowed_hosts: ["zeta.example.com", "api.example.com"],
          allow_package_managers: true,
        },
        packages: { pip: ["pandas==2.2.0", "numpy"], npm: ["zod"] },
      },
    });
    expect(e.config).toEqual({
      type: "cloud",
      networking: {
        type: "limited",
        allowed_hosts: ["api.example.com", "zeta.example.com"],
        allow_mcp_servers: false,
        allow_package_managers: true,
      },
      packages: { ...EMPTY_PACKAGES, pip: ["numpy", "pandas==2.2.0"], npm: ["zod"] },
    });
    const bare = await client.beta.environments.create({
      name: "bare",
      config: { type: "cloud", networking: { type: "limited" } },
    });
    expect(bare.config).toEqual({
      type: "cloud",
      networking: { type: "limited", allowed_hosts: [], allow_mcp_servers: false, allow_package_managers: false },
      packages: EMPTY_PACKAGES,
    });
  });

  it("packages under limited networking need allow_package_managers", async () => {
    await expectApiError(
      client.beta.environments.create({
        name: "x",
        config: { type: "cloud", networking: { type: "limited" }, packages: { apt: ["curl"] } },
      }),
      400,
      "invalid_request_error",
      "config.packages",
      "allow_package_managers",
    );
  });

  it("update: omitted parts of config are kept, sent parts replaced, metadata patched (null or '' deletes)", async () => {
    const e = await client.beta.environments.create({
      name: "evolving",
      description: "first",
      metadata: { a: "1", b: "2", c: "3" },
      config: { type: "cloud", packages: { apt: ["git"] } },
    });
    const u = await client.beta.environments.update(e.id, {
      config: {
        type: "cloud",
        networking: { type: "limited", allowed_hosts: ["b.example.com"], allow_package_managers: true },
      },
      metadata: { a: null, b: "", d: "4" },
      description: "",
    });
    expect(u.config).toEqual({
      type: "cloud",
      networking: {
        type: "limited",
        allowed_hosts: ["b.example.com"],
        allow_mcp_servers: false,
        allow_package_managers: true,
      },
      packages: { ...EMPTY_PACKAGES, apt: ["git"] },
    });
    expect(u.metadata).toEqual({ c: "3", d: "4" });
    expect(u.description).toBe("");
    expect(u.name).toBe("evolving");
    expect(u.updated_at > e.updated_at).toBe(true);
    // A limited network sent over a limited one keeps the fields it omits; packages sent replace the whole block.
    const v = await client.beta.environments.update(e.id, {
      config: { type: "cloud", networking: { type: "limited", allow_mcp_servers: true }, packages: { pip: ["rich"] } },
      description: null,
    });
    expect(v.config).toEqual({
      type: "cloud",
      networking: {
        type: "limited",
        allowed_hosts: ["b.example.com"],
        allow_mcp_servers: true,
        allow_package_managers: true,
      },
      packages: { ...EMPTY_PACKAGES, pip: ["rich"] },
    });
    expect(v.description).toBeNull();
    // No change: updated_at stays.
    const w = await client.beta.environments.update(e.id, { name: "evolving", config: v.config });
    expect(w.updated_at).toBe(v.updated_at);
  });

  it("changing config.type is invalid_config_type_change (BetaInvalidConfigTypeChangeError)", async () => {
    const e = await client.beta.environments.create({ name: "cloudy" });
    const err = await expectApiError(
      client.beta.environments.update(e.id, { config: { type: "self_hosted" } }),
      400,
      "invalid_request_error",
      "config.type",
      "'cloud'",
      "'self_hosted'",
    );
    expect(err.errorCode).toBe("invalid_config_type_change");
    expect(err).toBeInstanceOf(Anthropic.Beta.Environments.BetaInvalidConfigTypeChangeError);
    expect((await client.beta.environments.retrieve(e.id)).config.type).toBe("cloud");
    const sh = await client.beta.environments.create({ name: "mine", config: { type: "self_hosted" } });
    expect(sh.config).toEqual({ type: "self_hosted" });
  });

  it("validation names the field", async () => {
    const cases: [unknown, string[]][] = [
      [{}, ["name: Field required"]],
      [{ name: "x", config: { type: "moon" } }, ["config.type: Input tag 'moon'"]],
      [
        { name: "x", config: { type: "cloud", networking: { type: "limited", allowed_hosts: ["https://a.com/x"] } } },
        ["config.networking.allowed_hosts.0"],
      ],
      [{ name: "x", config: { type: "cloud", packages: { brew: ["x"] } } }, ["config.packages.brew: Extra inputs"]],
      [{ name: "x", scope: "account" }, ["scope:"]],
      [{ name: "x", metadata: { k: 1 } }, ["metadata.k: Input should be a valid string"]],
      [{ name: "x", labels: {} }, ["labels: Extra inputs are not permitted"]],
    ];
    for (const [body, fragments] of cases) {
      await expectApiError(
        client.beta.environments.create(body as EnvironmentCreateParams),
        400,
        "invalid_request_error",
        ...fragments,
      );
    }
  });

  it("archive hides from lists, blocks updates (environment_archived); delete removes", async () => {
    const local = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_envs" } });
    const keep = await local.beta.environments.create({ name: "keep" });
    const gone = await local.beta.environments.create({ name: "gone" });
    const archived = await local.beta.environments.archive(gone.id);
    expect(archived.archived_at).not.toBeNull();
    const err = await expectApiError(
      local.beta.environments.update(gone.id, { name: "x" }),
      400,
      "invalid_request_error",
    );
    expect(err.errorCode).toBe("environment_archived");
    expect((await local.beta.environments.list()).data.map((e) => e.id)).toEqual([keep.id]);
    expect((await local.beta.environments.list({ include_archived: true })).data.map((e) => e.id)).toEqual([
      gone.id,
      keep.id,
    ]);
    expect(await local.beta.environments.delete(gone.id)).toEqual({ id: gone.id, type: "environment_deleted" });
    await expectApiError(local.beta.environments.retrieve(gone.id), 404, "not_found_error", gone.id);
    await expectApiError(local.beta.environments.delete(gone.id), 404, "not_found_error");
  });
});
