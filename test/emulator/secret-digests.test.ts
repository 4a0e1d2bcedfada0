/**
 * The emulator's state file must not be a guessing oracle for the secrets sent to it (issue 6, item 8): it keeps a
 * keyed digest of each secret, with the key outside the state file, and still tells a rotation from the same value
 * sent again, across restarts.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyFileOf, UNVERIFIABLE_SECRET } from "../../src/emulator/store.js";
import { sdk, start } from "./helpers.js";

const CANARY = "canary-secret-3c9b7d1e";
const CANARY_REFRESH = "canary-refresh-0a4f6e2d";

/** Every form of `value` that would let someone holding the file confirm a guess or read it. */
function leaks(value: string): string[] {
  const sha = createHash("sha256").update(value).digest();
  return [
    value,
    sha.toString("hex"),
    sha.toString("base64"),
    sha.toString("base64url"),
    Buffer.from(value).toString("base64"),
  ];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-secrets-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("secret digests in the state file", () => {
  it("hold neither the value nor its plain sha256; the key lives in a separate 0600 file", async () => {
    const file = join(dir, "state.json");
    const emu = await start({ stateFile: file });
    const client = sdk(emu);
    const vault = await client.beta.vaults.create({ display_name: "v" });
    await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: "mcp_oauth",
        access_token: CANARY,
        mcp_server_url: "https://a.example.com/mcp",
        refresh: {
          client_id: "c",
          refresh_token: CANARY_REFRESH,
          token_endpoint: "https://a.example.com/token",
          token_endpoint_auth: { type: "none" },
        },
      },
    });
    await emu.close();
    const text = await readFile(file, "utf8");
    for (const leak of [...leaks(CANARY), ...leaks(CANARY_REFRESH)]) expect(text).not.toContain(leak);
    const secrets = JSON.parse(text).workspaces[""].credentials[0].secrets;
    expect(Object.keys(secrets).sort()).toEqual(["access_token", "refresh_token"]);
    expect(secrets.access_token).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    const key = await readFile(keyFileOf(file), "utf8");
    expect(key.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(text).not.toContain(key.trim());
    expect((await stat(keyFileOf(file))).mode & 0o777).toBe(0o600);
  });

  it("two state files get different keys, so equal secrets get different digests", async () => {
    const digests: string[] = [];
    for (const name of ["a.json", "b.json"]) {
      const file = join(dir, name);
      const emu = await start({ stateFile: file });
      const client = sdk(emu);
      const vault = await client.beta.vaults.create({ display_name: "v" });
      await client.beta.vaults.credentials.create(vault.id, {
        auth: { type: "static_bearer", token: CANARY, mcp_server_url: "https://a.example.com/mcp" },
      });
      await emu.close();
      digests.push(JSON.parse(await readFile(file, "utf8")).workspaces[""].credentials[0].secrets.token);
    }
    expect(digests[0]).not.toBe(digests[1]);
  });

  it("after a restart, the same value is no change and a new value is a rotation", async () => {
    const file = join(dir, "restart.json");
    const first = await start({ stateFile: file });
    const vault = await sdk(first).beta.vaults.create({ display_name: "v" });
    const cred = await sdk(first).beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", token: CANARY, mcp_server_url: "https://a.example.com/mcp" },
    });
    await first.close();
    const second = await start({ stateFile: file });
    const client = sdk(second);
    const same = await client.beta.vaults.credentials.update(cred.id, {
      vault_id: vault.id,
      auth: { type: "static_bearer", token: CANARY },
    });
    expect(same.updated_at).toBe(cred.updated_at);
    const rotated = await client.beta.vaults.credentials.update(cred.id, {
      vault_id: vault.id,
      auth: { type: "static_bearer", token: `${CANARY}-2` },
    });
    expect(rotated.updated_at > cred.updated_at).toBe(true);
    await second.close();
  });

  it("without its key file, a stored digest matches nothing: the next value sent counts as a rotation", async () => {
    const file = join(dir, "lost-key.json");
    const first = await start({ stateFile: file });
    const vault = await sdk(first).beta.vaults.create({ display_name: "v" });
    const cred = await sdk(first).beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", token: CANARY, mcp_server_url: "https://a.example.com/mcp" },
    });
    await first.close();
    await rm(keyFileOf(file));
    await writeFile(keyFileOf(file), "not a key\n"); // hand-edited: replaced by a new key
    const second = await start({ stateFile: file });
    const again = await sdk(second).beta.vaults.credentials.update(cred.id, {
      vault_id: vault.id,
      auth: { type: "static_bearer", token: CANARY },
    });
    expect(again.updated_at > cred.updated_at).toBe(true);
    await second.close();
    expect((await readFile(keyFileOf(file), "utf8")).trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("an unkeyed sha256 digest from an older state file is scrubbed from the file at start", async () => {
    const file = join(dir, "legacy.json");
    const legacy = `sha256:${createHash("sha256").update(CANARY).digest("hex")}`;
    const now = "2026-01-01T00:00:00Z";
    await writeFile(
      file,
      JSON.stringify({
        format: "reconcile-emulator-state",
        version: 1,
        workspaces: {
          "": {
            agents: [],
            environments: [],
            vaults: [
              {
                type: "vault",
                id: "vlt_1",
                display_name: "v",
                metadata: {},
                created_at: now,
                updated_at: now,
                archived_at: null,
              },
            ],
            credentials: [
              {
                credential: {
                  type: "vault_credential",
                  id: "vcrd_1",
                  vault_id: "vlt_1",
                  display_name: null,
                  auth: { type: "static_bearer", mcp_server_url: "https://a.example.com/mcp" },
                  metadata: {},
                  created_at: now,
                  updated_at: now,
                  archived_at: null,
                },
                secrets: { token: legacy },
              },
            ],
          },
        },
      }),
    );
    const emu = await start({ stateFile: file });
    const text = await readFile(file, "utf8");
    expect(text).not.toContain(legacy.slice("sha256:".length));
    expect(JSON.parse(text).workspaces[""].credentials[0].secrets).toEqual({ token: UNVERIFIABLE_SECRET });
    const rotated = await sdk(emu).beta.vaults.credentials.update("vcrd_1", {
      vault_id: "vlt_1",
      auth: { type: "static_bearer", token: CANARY },
    });
    expect(rotated.updated_at > now).toBe(true);
    await emu.close();
  });
});
