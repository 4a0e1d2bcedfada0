import type Anthropic from "@anthropic-ai/sdk";
import type {
  CredentialCreateParams,
  CredentialUpdateParams,
} from "@anthropic-ai/sdk/resources/beta/vaults/credentials.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { expectApiError, raw, sdk, start } from "./helpers.js";

const CANARY = "canary-Zq8x1-SECRET";
const logLines: string[] = [];
let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start({ log: (line) => logLines.push(line) });
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

describe("vaults", () => {
  it("create, retrieve, update (metadata patch), list", async () => {
    const v = await client.beta.vaults.create({ display_name: "Alice", metadata: { user: "u1", tier: "gold" } });
    expect(v.id).toMatch(/^vlt_011C[0-9A-Za-z]{20}$/);
    const { id, created_at, updated_at, ...rest } = v;
    expect(rest).toEqual({
      type: "vault",
      display_name: "Alice",
      metadata: { tier: "gold", user: "u1" },
      archived_at: null,
    });
    const u = await client.beta.vaults.update(v.id, {
      display_name: "Alice B.",
      metadata: { tier: null, region: "eu" },
    });
    expect(u.display_name).toBe("Alice B.");
    expect(u.metadata).toEqual({ region: "eu", user: "u1" });
    expect(await client.beta.vaults.retrieve(v.id)).toEqual(u);
    const plain = await client.beta.vaults.create({ display_name: "Bob" });
    expect(plain.metadata).toEqual({});
    await expectApiError(
      client.beta.vaults.create({} as never),
      400,
      "invalid_request_error",
      "display_name: Field required",
    );
    await expectApiError(
      client.beta.vaults.create({ display_name: "x".repeat(256) }),
      400,
      "invalid_request_error",
      "display_name: String should have at most 255",
    );
  });
});

describe("credentials", () => {
  it("never return secrets, in any response, list or log line", async () => {
    const vault = await client.beta.vaults.create({ display_name: "secrets" });
    const responses: unknown[] = [];
    const bearer = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", token: `${CANARY}-token`, mcp_server_url: "https://mcp.example.com/sse" },
    });
    const oauth = await client.beta.vaults.credentials.create(vault.id, {
      display_name: "GitHub",
      auth: {
        type: "mcp_oauth",
        access_token: `${CANARY}-access`,
        mcp_server_url: "https://github.example.com/mcp",
        expires_at: "2999-01-01T00:00:00Z",
        refresh: {
          client_id: "client-1",
          refresh_token: `${CANARY}-refresh`,
          token_endpoint: "https://github.example.com/token",
          token_endpoint_auth: { type: "client_secret_post", client_secret: `${CANARY}-client` },
        },
      },
    });
    const env = await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: "environment_variable",
        secret_name: "API_TOKEN",
        secret_value: `${CANARY}-value`,
        networking: { type: "limited", allowed_hosts: ["z.example.com", "api.example.com"] },
      },
    });
    responses.push(bearer, oauth, env);
    // Rotations and reads.
    responses.push(
      await client.beta.vaults.credentials.update(bearer.id, {
        vault_id: vault.id,
        auth: { type: "static_bearer", token: `${CANARY}-rotated` },
      }),
      await client.beta.vaults.credentials.update(oauth.id, {
        vault_id: vault.id,
        auth: { type: "mcp_oauth", access_token: `${CANARY}-access2`, refresh: { refresh_token: `${CANARY}-r2` } },
      }),
      await client.beta.vaults.credentials.update(env.id, {
        vault_id: vault.id,
        auth: { type: "environment_variable", secret_value: `${CANARY}-v2` },
      }),
      await client.beta.vaults.credentials.retrieve(oauth.id, { vault_id: vault.id }),
      await client.beta.vaults.credentials.mcpOAuthValidate(oauth.id, { vault_id: vault.id }),
    );
    const listed = [];
    for await (const c of client.beta.vaults.credentials.list(vault.id)) listed.push(c);
    expect(listed).toHaveLength(3);
    const rawList = await raw(emu, "GET", `/v1/vaults/${vault.id}/credentials?include_archived=true`);
    responses.push(listed, rawList.json);
    // A validation error about a secret field must not echo it either.
    const err = await expectApiError(
      client.beta.vaults.credentials.create(vault.id, {
        auth: { type: "static_bearer", token: `${CANARY}-bad`, mcp_server_url: CANARY },
      }),
      400,
      "invalid_request_error",
      "auth.mcp_server_url",
    );
    responses.push(err.error);
    for (const r of responses) expect(JSON.stringify(r)).not.toContain(CANARY);
    expect(logLines.length).toBeGreaterThan(8);
    for (const line of logLines) expect(line).not.toContain(CANARY);

    expect(bearer.auth).toEqual({ type: "static_bearer", mcp_server_url: "https://mcp.example.com/sse" });
    expect(oauth.auth).toEqual({
      type: "mcp_oauth",
      mcp_server_url: "https://github.example.com/mcp",
      expires_at: "2999-01-01T00:00:00Z",
      refresh: {
        client_id: "client-1",
        token_endpoint: "https://github.example.com/token",
        token_endpoint_auth: { type: "client_secret_post" },
        resource: null,
        scope: null,
      },
    });
    expect(env.auth).toEqual({
      type: "environment_variable",
      secret_name: "API_TOKEN",
      networking: { type: "limited", allowed_hosts: ["api.example.com", "z.example.com"] },
      injection_location: { header: true, body: false },
    });
    const validation = responses[7] as Record<string, unknown>;
    expect(validation).toMatchObject({
      type: "vault_credential_validation",
      credential_id: oauth.id,
      vault_id: vault.id,
      status: "unknown",
      has_refresh_token: true,
      mcp_probe: null,
      refresh: null,
    });
  });

  it("fills defaults and moves updated_at on a rotation only", async () => {
    const vault = await client.beta.vaults.create({ display_name: "defaults" });
    const c = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "mcp_oauth", access_token: "t", mcp_server_url: "https://a.example.com/mcp" },
    });
    expect(c.id).toMatch(/^vcrd_011C[0-9A-Za-z]{20}$/);
    const { id, created_at, updated_at, ...rest } = c;
    expect(rest).toEqual({
      type: "vault_credential",
      vault_id: vault.id,
      display_name: null,
      auth: { type: "mcp_oauth", mcp_server_url: "https://a.example.com/mcp", expires_at: null, refresh: null },
      metadata: {},
      archived_at: null,
    });
    const same = await client.beta.vaults.credentials.update(c.id, { vault_id: vault.id, metadata: {} });
    expect(same.updated_at).toBe(c.updated_at);
    const rotated = await client.beta.vaults.credentials.update(c.id, {
      vault_id: vault.id,
      auth: { type: "mcp_oauth", access_token: "t2" },
    });
    expect(rotated.updated_at > c.updated_at).toBe(true);
    expect(rotated.auth).toEqual(c.auth);
  });

  it("auth.type and mcp_server_url cannot change in place; no unsourced uniqueness per URL", async () => {
    const vault = await client.beta.vaults.create({ display_name: "immutable" });
    const c = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", token: "t", mcp_server_url: "https://a.example.com/mcp" },
    });
    await expectApiError(
      client.beta.vaults.credentials.update(c.id, {
        vault_id: vault.id,
        auth: { type: "static_bearer", mcp_server_url: "https://b.example.com/mcp" } as CredentialUpdateParams["auth"],
      }),
      400,
      "invalid_request_error",
      "auth.mcp_server_url",
      "cannot be changed",
    );
    await expectApiError(
      client.beta.vaults.credentials.update(c.id, {
        vault_id: vault.id,
        auth: { type: "mcp_oauth", access_token: "x" },
      }),
      400,
      "invalid_request_error",
      "auth.type",
      "'static_bearer'",
    );
    // Neither the SDK nor the public docs state one active credential per URL (ADR 0020): a second one is accepted.
    const again = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "mcp_oauth", access_token: "t", mcp_server_url: "https://a.example.com/mcp" },
    });
    expect(again.auth.type).toBe("mcp_oauth");
  });

  it("validates auth per type, naming the field", async () => {
    const vault = await client.beta.vaults.create({ display_name: "validation" });
    const cases: [unknown, string[]][] = [
      [{}, ["auth: Field required"]],
      [{ auth: { type: "password" } }, ["auth.type: Input tag 'password'"]],
      [{ auth: { type: "static_bearer", mcp_server_url: "https://a.example.com" } }, ["auth.token: Field required"]],
      [{ auth: { type: "static_bearer", token: "t" } }, ["auth.mcp_server_url: Field required"]],
      [{ auth: { type: "mcp_oauth", mcp_server_url: "https://a.example.com" } }, ["auth.access_token: Field required"]],
      [
        {
          auth: {
            type: "mcp_oauth",
            access_token: "t",
            mcp_server_url: "https://a.example.com",
            expires_at: "2001-01-01T00:00:00Z",
          },
        },
        ["auth.expires_at: must be in the future"],
      ],
      [
        {
          auth: {
            type: "mcp_oauth",
            access_token: "t",
            mcp_server_url: "https://a.example.com",
            refresh: {
              client_id: "c",
              token_endpoint: "https://a.example.com/t",
              token_endpoint_auth: { type: "none" },
            },
          },
        },
        ["auth.refresh.refresh_token: Field required"],
      ],
      [
        {
          auth: {
            type: "mcp_oauth",
            access_token: "t",
            mcp_server_url: "https://a.example.com",
            refresh: {
              client_id: "c",
              refresh_token: "r",
              token_endpoint: "https://a.example.com/t",
              token_endpoint_auth: { type: "client_secret_basic" },
            },
          },
        },
        ["auth.refresh.token_endpoint_auth.client_secret: Field required"],
      ],
      [
        { auth: { type: "environment_variable", secret_name: "X", secret_value: "v" } },
        ["auth.networking: Field required"],
      ],
      [
        {
          auth: {
            type: "environment_variable",
            secret_name: "1BAD",
            secret_value: "v",
            networking: { type: "unrestricted" },
          },
        },
        ["auth.secret_name: String should match pattern"],
      ],
      [
        {
          auth: {
            type: "environment_variable",
            secret_name: "X",
            secret_value: "v",
            networking: { type: "unrestricted" },
            injection_location: { header: false },
          },
        },
        ["auth.injection_location: at least one"],
      ],
      [
        { auth: { type: "static_bearer", token: "t", mcp_server_url: "https://a.example.com" }, name: "x" },
        ["name: Extra inputs are not permitted"],
      ],
    ];
    for (const [body, fragments] of cases) {
      await expectApiError(
        client.beta.vaults.credentials.create(vault.id, body as CredentialCreateParams),
        400,
        "invalid_request_error",
        ...fragments,
      );
    }
    await expectApiError(
      client.beta.vaults.credentials.create("vlt_011Cmissing", {
        auth: { type: "static_bearer", token: "t", mcp_server_url: "https://a.example.com" },
      }),
      404,
      "not_found_error",
      "vlt_011Cmissing",
    );
  });

  it("environment_variable updates: injection_location per key, networking replaced whole, secret_name immutable", async () => {
    const vault = await client.beta.vaults.create({ display_name: "env" });
    const c = await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: "environment_variable",
        secret_name: "TOKEN",
        secret_value: "v",
        networking: { type: "unrestricted" },
      },
    });
    const u = await client.beta.vaults.credentials.update(c.id, {
      vault_id: vault.id,
      display_name: "Token",
      auth: {
        type: "environment_variable",
        injection_location: { body: true },
        networking: { type: "limited", allowed_hosts: ["*.example.com"] },
      },
    });
    expect(u.auth).toEqual({
      type: "environment_variable",
      secret_name: "TOKEN",
      networking: { type: "limited", allowed_hosts: ["*.example.com"] },
      injection_location: { header: true, body: true },
    });
    expect(u.display_name).toBe("Token");
    await expectApiError(
      client.beta.vaults.credentials.update(c.id, {
        vault_id: vault.id,
        auth: { type: "environment_variable", secret_name: "OTHER" } as CredentialUpdateParams["auth"],
      }),
      400,
      "invalid_request_error",
      "auth.secret_name",
    );
    await expectApiError(
      client.beta.vaults.credentials.mcpOAuthValidate(c.id, { vault_id: vault.id }),
      400,
      "invalid_request_error",
      "mcp_oauth",
    );
  });

  it("archiving a vault leaves its credentials alone (no source for a cascade); deleting deletes them", async () => {
    const vault = await client.beta.vaults.create({ display_name: "cascade" });
    const a = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", token: "t", mcp_server_url: "https://a.example.com" },
    });
    const b = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", token: "t", mcp_server_url: "https://b.example.com" },
    });
    const archived = await client.beta.vaults.archive(vault.id);
    expect(archived.archived_at).not.toBeNull();
    expect((await client.beta.vaults.credentials.retrieve(a.id, { vault_id: vault.id })).archived_at).toBeNull();
    const active = await client.beta.vaults.credentials.list(vault.id);
    expect(active.data.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
    const vaults = [];
    for await (const v of client.beta.vaults.list()) vaults.push(v.id);
    expect(vaults).not.toContain(vault.id);

    expect(await client.beta.vaults.delete(vault.id)).toEqual({ id: vault.id, type: "vault_deleted" });
    await expectApiError(client.beta.vaults.retrieve(vault.id), 404, "not_found_error");
    await expectApiError(client.beta.vaults.credentials.retrieve(a.id, { vault_id: vault.id }), 404, "not_found_error");
  });

  it("credential delete and cross-vault lookups", async () => {
    const v1 = await client.beta.vaults.create({ display_name: "one" });
    const v2 = await client.beta.vaults.create({ display_name: "two" });
    const c = await client.beta.vaults.credentials.create(v1.id, {
      auth: { type: "static_bearer", token: "t", mcp_server_url: "https://a.example.com" },
    });
    await expectApiError(
      client.beta.vaults.credentials.retrieve(c.id, { vault_id: v2.id }),
      404,
      "not_found_error",
      v2.id,
    );
    expect(await client.beta.vaults.credentials.delete(c.id, { vault_id: v1.id })).toEqual({
      id: c.id,
      type: "vault_credential_deleted",
    });
    await expectApiError(client.beta.vaults.credentials.retrieve(c.id, { vault_id: v1.id }), 404, "not_found_error");
  });
});
