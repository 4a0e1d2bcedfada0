import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../src/emulator/index.js";
import { sdk, start } from "./helpers.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-state-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("state file", () => {
  it("survives a restart: agents with their versions, environments, vaults, credentials, workspaces", async () => {
    const file = join(dir, "nested", "state.json");
    const first = await start({ stateFile: file });
    const client = sdk(first);
    const agent = await client.beta.agents.create({
      name: "persisted",
      model: "claude-opus-4-6",
      metadata: { k: "v" },
    });
    await client.beta.agents.update(agent.id, { system: "second version" });
    const env = await client.beta.environments.create({ name: "env" });
    const vault = await client.beta.vaults.create({ display_name: "vault" });
    const cred = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", token: "persisted-token", mcp_server_url: "https://a.example.com" },
    });
    const other = await client.beta.vaults.create({ display_name: "elsewhere", workspace_id: "wrkspc_other" });
    await first.close();

    const text = await readFile(file, "utf8");
    const json = JSON.parse(text);
    expect(json.format).toBe("reconcile-emulator-state");
    expect(json.version).toBe(1);
    expect(Object.keys(json.workspaces).sort()).toEqual(["", "wrkspc_other"]);
    // Secrets are kept apart from the public credential, as keyed digests (see secret-digests.test.ts).
    expect(json.workspaces[""].credentials[0].secrets).toEqual({
      token: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(json)).not.toContain("persisted-token");
    expect(json.workspaces[""].credentials[0].credential).not.toHaveProperty("auth.token");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(join(dir, "nested"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    const second = await start({ stateFile: file });
    const again = sdk(second);
    const a = await again.beta.agents.retrieve(agent.id);
    expect(a.version).toBe(2);
    expect(a.system).toBe("second version");
    expect((await again.beta.agents.retrieve(agent.id, { version: 1 })).system).toBeNull();
    expect((await again.beta.environments.retrieve(env.id)).name).toBe("env");
    expect(await again.beta.vaults.credentials.retrieve(cred.id, { vault_id: vault.id })).toEqual(cred);
    expect((await again.beta.vaults.retrieve(other.id, { workspace_id: "wrkspc_other" })).display_name).toBe(
      "elsewhere",
    );
    // New writes land in the same file.
    await again.beta.agents.archive(agent.id);
    await second.close();
    const third = await start({ stateFile: file });
    expect((await sdk(third).beta.agents.retrieve(agent.id)).archived_at).not.toBeNull();
    await third.close();
  });

  it("a corrupt state file is a clear error naming the file", async () => {
    const file = join(dir, "corrupt.json");
    await writeFile(file, "{ not json");
    await expect(startEmulator({ stateFile: file })).rejects.toThrow(`Emulator state file ${file} is corrupt`);
    await writeFile(file, JSON.stringify({ hello: "world" }));
    await expect(startEmulator({ stateFile: file })).rejects.toThrow(file);
    await writeFile(
      file,
      JSON.stringify({ format: "reconcile-emulator-state", version: 1, workspaces: { "": { agents: {} } } }),
    );
    await expect(startEmulator({ stateFile: file })).rejects.toThrow(/corrupt: workspace "": "agents" is not an array/);
  });

  it("an unsupported format version is refused", async () => {
    const file = join(dir, "future.json");
    await writeFile(file, JSON.stringify({ format: "reconcile-emulator-state", version: 99, workspaces: {} }));
    await expect(startEmulator({ stateFile: file })).rejects.toThrow(/format version 99.*reads version 1/);
  });

  it("a missing state file starts empty", async () => {
    const emu = await start({ stateFile: join(dir, "fresh.json") });
    expect((await sdk(emu).beta.agents.list()).data).toEqual([]);
    await emu.close();
  });

  it("bad options are rejected", async () => {
    await expect(startEmulator({ faultRate: 2 })).rejects.toThrow(/faultRate/);
    await expect(startEmulator({ pageSizeDefault: 101 })).rejects.toThrow(/pageSizeDefault/);
    await expect(startEmulator({ port: -1 })).rejects.toThrow(/port/);
  });
});
