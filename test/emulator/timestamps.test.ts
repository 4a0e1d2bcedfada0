import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { authState } from "../../src/providers/credential.js";
import { canonicalInstant } from "../../src/providers/instant.js";
import { expectApiError, sdk, start } from "./helpers.js";

/**
 * Client timestamps (`expires_at`) come back in UTC `Z` form through the SDK, and the credential provider compares
 * them as instants: an offset form in a spec and the `Z` form from the API plan no change.
 */

let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

function oauth(url: string, expires_at: string) {
  return { type: "mcp_oauth" as const, mcp_server_url: url, access_token: "tok-canary-ts", expires_at };
}

describe("expires_at is normalised to UTC Z form", () => {
  it("offsets, lowercase separators and fractions come back as Z, on create and update", async () => {
    const vault = await client.beta.vaults.create({ display_name: "ts" });
    const a = await client.beta.vaults.credentials.create(vault.id, {
      auth: oauth("https://a.example.com/mcp", "2999-01-01T02:00:00+02:00"),
    });
    expect((a.auth as { expires_at: string | null }).expires_at).toBe("2999-01-01T00:00:00Z");
    const b = await client.beta.vaults.credentials.create(vault.id, {
      auth: oauth("https://b.example.com/mcp", "2998-12-31t19:30:00.250000-05:00"),
    });
    expect((b.auth as { expires_at: string | null }).expires_at).toBe("2999-01-01T00:30:00.25Z");
    const c = await client.beta.vaults.credentials.update(b.id, {
      vault_id: vault.id,
      auth: { type: "mcp_oauth", expires_at: "3000-06-01 12:00:00.123456789z" },
    });
    expect((c.auth as { expires_at: string | null }).expires_at).toBe("3000-06-01T12:00:00.123456Z");
    const listed = await client.beta.vaults.credentials.retrieve(b.id, { vault_id: vault.id });
    expect((listed.auth as { expires_at: string | null }).expires_at).toBe("3000-06-01T12:00:00.123456Z");
  });

  it("an invalid or past timestamp is still a 400", async () => {
    const vault = await client.beta.vaults.create({ display_name: "ts-bad" });
    for (const bad of ["2999-01-01", "2999-13-01T00:00:00Z", "2999-01-01T00:00:00+2:00", "tomorrow"]) {
      await expectApiError(
        client.beta.vaults.credentials.create(vault.id, { auth: oauth("https://c.example.com/mcp", bad) }),
        400,
        "invalid_request_error",
        "auth.expires_at: Input should be a valid RFC 3339 datetime",
      );
    }
    await expectApiError(
      client.beta.vaults.credentials.create(vault.id, {
        auth: oauth("https://c.example.com/mcp", "2001-01-01T05:00:00+05:00"),
      }),
      400,
      "invalid_request_error",
      "must be in the future",
    );
  });
});

describe("the provider compares instants, not strings", () => {
  it("canonicalInstant maps equal instants to one string and leaves non-timestamps alone", () => {
    expect(canonicalInstant("2999-01-01T02:00:00+02:00")).toBe("2999-01-01T00:00:00Z");
    expect(canonicalInstant("2999-01-01T00:00:00.000Z")).toBe("2999-01-01T00:00:00Z");
    expect(canonicalInstant("2999-01-01T00:00:00.000001Z")).toBe("2999-01-01T00:00:00.000001Z");
    expect(canonicalInstant("not a time")).toBeNull();
  });

  it("a spec with an offset and the API's Z form have the same comparable state", () => {
    const spec = authState({ ...oauth("https://a.example.com/mcp", "2999-01-01T02:00:00+02:00") });
    const live = authState({ ...oauth("https://a.example.com/mcp", "2999-01-01T00:00:00Z") });
    const later = authState({ ...oauth("https://a.example.com/mcp", "2999-01-01T00:00:01Z") });
    expect(spec).toEqual(live);
    expect(spec).not.toEqual(later);
  });
});
