import type Anthropic from "@anthropic-ai/sdk";
import { toFile } from "@anthropic-ai/sdk";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { expectApiError, raw, sdk, start } from "./helpers.js";

/**
 * Skills through the unmodified SDK: multipart uploads, versions, the zip download, the upload rules, Anthropic's
 * read-only skills, and persistence. Every call passes the skills beta, which the SDK does not add by itself.
 */

const betas = ["skills-2025-10-02"];
let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

const SKILL_MD = (name: string | null, description = "Handles incidents.") =>
  `---\n${name === null ? "" : `name: ${name}\n`}description: ${description}\n---\n\n# Runbook\n`;

function files(entries: Record<string, string | Uint8Array>) {
  return Promise.all(Object.entries(entries).map(([path, data]) => toFile(Buffer.from(data), path)));
}

describe("skills", () => {
  it("create, retrieve, list, new version, versions list/retrieve, download zip, delete", async () => {
    const skill = await client.beta.skills.create({
      betas,
      display_name: "Incident runbook",
      files: await files({
        "incident-runbook/SKILL.md": SKILL_MD("incident-runbook"),
        "incident-runbook/scripts/run.sh": "#!/bin/sh\necho hi\n",
      }),
    });
    expect(skill.id).toMatch(/^skill_011C[0-9A-Za-z]{20}$/);
    expect(skill.display_name).toBe("Incident runbook");
    expect(skill.source).toEqual({ type: "custom" });
    expect(skill.latest_version_id).toMatch(/^\d{16}$/);
    expect(await client.beta.skills.retrieve(skill.id, { betas })).toEqual(skill);

    const v2 = await client.beta.skills.versions.create(skill.id, {
      betas,
      files: await files({
        "incident-runbook/SKILL.md": SKILL_MD("incident-runbook", "Handles incidents, v2."),
        "incident-runbook/scripts/run.sh": "#!/bin/sh\necho v2\n",
        "incident-runbook/notes/a.md": "note",
      }),
    });
    expect(v2).toMatchObject({
      type: "skill_version",
      skill_id: skill.id,
      name: "incident-runbook",
      description: "Handles incidents, v2.",
    });
    expect(BigInt(v2.id)).toBeGreaterThan(BigInt(skill.latest_version_id));
    const after = await client.beta.skills.retrieve(skill.id, { betas });
    expect(after.latest_version_id).toBe(v2.id);

    const versions = await client.beta.skills.versions.list(skill.id, { betas });
    expect(versions.data.map((v) => v.id)).toEqual([v2.id, skill.latest_version_id]);
    expect(await client.beta.skills.versions.retrieve(v2.id, { betas, skill_id: skill.id })).toEqual(v2);

    const response = await client.beta.skills.versions.download(v2.id, { betas, skill_id: skill.id });
    expect(response.headers.get("content-type")).toBe("application/zip");
    const zip = unzipSync(new Uint8Array(await response.arrayBuffer()));
    expect(Object.keys(zip).sort()).toEqual([
      "incident-runbook/SKILL.md",
      "incident-runbook/notes/a.md",
      "incident-runbook/scripts/run.sh",
    ]);
    expect(strFromU8(zip["incident-runbook/scripts/run.sh"] as Uint8Array)).toBe("#!/bin/sh\necho v2\n");

    const custom = await client.beta.skills.list({ betas, source: "custom" });
    expect(custom.data.map((s) => s.id)).toContain(skill.id);
    expect(custom.data.every((s) => s.source.type === "custom")).toBe(true);

    // Deleting the latest version moves latest_version_id back; the last one cannot go.
    await client.beta.skills.versions.delete(v2.id, { betas, skill_id: skill.id });
    expect((await client.beta.skills.retrieve(skill.id, { betas })).latest_version_id).toBe(skill.latest_version_id);
    await expectApiError(
      client.beta.skills.versions.delete(skill.latest_version_id, { betas, skill_id: skill.id }),
      400,
      "invalid_request_error",
      "at least one version",
    );
    expect(await client.beta.skills.delete(skill.id, { betas })).toEqual({ id: skill.id, type: "skill_deleted" });
    await expectApiError(client.beta.skills.retrieve(skill.id, { betas }), 404, "not_found_error");
  });

  it("derives display_name and the slug from SKILL.md, or the slug from the directory", async () => {
    const named = await client.beta.skills.create({
      betas,
      files: await files({ "folder/SKILL.md": SKILL_MD("from-frontmatter") }),
    });
    expect(named.display_name).toBe("from-frontmatter");
    const dir = await client.beta.skills.create({ betas, files: await files({ "from-dir/SKILL.md": SKILL_MD(null) }) });
    const version = await client.beta.skills.versions.retrieve(dir.latest_version_id, { betas, skill_id: dir.id });
    expect(version.name).toBe("from-dir");
  });

  it("refuses uploads that break the rules, each with a 400 naming the problem", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ "a/README.md": "x" }, "SKILL.md"],
      [{ "a/SKILL.md": "# no frontmatter\n" }, "frontmatter"],
      [{ "a/SKILL.md": "---\nname: a\n---\n" }, "description"],
      [{ "a/SKILL.md": SKILL_MD("a"), "b/x.md": "x" }, "same top-level directory"],
      [{ "SKILL.md": SKILL_MD("a") }, "top-level directory"],
      [{ "a/SKILL.md": SKILL_MD("a"), "a/../../etc/passwd": "x" }, "relative paths"],
      [{ "a/SKILL.md": SKILL_MD("Not Kebab") }, "kebab-case"],
    ];
    for (const [entries, fragment] of cases) {
      await expectApiError(
        client.beta.skills.create({ betas, files: await files(entries) }),
        400,
        "invalid_request_error",
        fragment,
      );
    }
    await expectApiError(
      client.beta.skills.create({
        betas,
        display_name: "two\nlines",
        files: await files({ "a/SKILL.md": SKILL_MD("a") }),
      }),
      400,
      "invalid_request_error",
      "display_name",
    );
    const res = await raw(emu, "POST", "/v1/skills", {
      headers: { "anthropic-beta": "skills-2025-10-02", "content-type": "application/json" },
      body: JSON.stringify({ files: [] }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain("multipart/form-data");
  });

  it("keeps the slug: a new version whose SKILL.md names another skill is a 400", async () => {
    const skill = await client.beta.skills.create({ betas, files: await files({ "keep/SKILL.md": SKILL_MD("keep") }) });
    await expectApiError(
      client.beta.skills.versions.create(skill.id, {
        betas,
        files: await files({ "keep/SKILL.md": SKILL_MD("other") }),
      }),
      400,
      "invalid_request_error",
      "cannot change",
    );
  });

  it("refuses an upload over the size limit with a 413", async () => {
    const big = new Uint8Array(8 * 1024 * 1024 + 1);
    const err = await expectApiError(
      client.beta.skills.create({
        betas,
        files: await files({ "big/SKILL.md": SKILL_MD("big"), "big/blob.bin": big }),
      }),
      413,
      "request_too_large",
    );
    expect(err.status).toBe(413);
  });

  it("lists Anthropic's skills read-only, and requires the skills beta", async () => {
    const anthropic = await client.beta.skills.list({ betas, source: "anthropic" });
    expect(anthropic.data.map((s) => s.id).sort()).toEqual(["docx", "pdf", "pptx", "xlsx"]);
    const xlsx = await client.beta.skills.retrieve("xlsx", { betas });
    expect(xlsx.source.type).toBe("anthropic");
    await expectApiError(client.beta.skills.delete("xlsx", { betas }), 400, "invalid_request_error", "read-only");
    await expectApiError(
      client.beta.skills.versions.create("xlsx", { betas, files: await files({ "xlsx/SKILL.md": SKILL_MD("xlsx") }) }),
      400,
      "invalid_request_error",
      "read-only",
    );
    await expectApiError(client.beta.skills.list(), 400, "invalid_request_error", "skills-2025-10-02");
  });
});

describe("skills persistence", () => {
  it("keeps skills, versions and files across a restart", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = await mkdtemp(path.join(tmpdir(), "skills-state-"));
    const stateFile = path.join(dir, "state.json");
    try {
      const first = await start({ stateFile });
      const skill = await sdk(first).beta.skills.create({
        betas,
        files: await files({ "kept/SKILL.md": SKILL_MD("kept"), "kept/bin.dat": new Uint8Array([0, 1, 2, 255]) }),
      });
      await first.close();
      const second = await start({ stateFile });
      try {
        const c = sdk(second);
        expect(await c.beta.skills.retrieve(skill.id, { betas })).toEqual(skill);
        const zip = await c.beta.skills.versions.download(skill.latest_version_id, { betas, skill_id: skill.id });
        const entries = unzipSync(new Uint8Array(await zip.arrayBuffer()));
        expect([...(entries["kept/bin.dat"] as Uint8Array)]).toEqual([0, 1, 2, 255]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
