/**
 * YAML parsed in worker threads (issue 10 item 6) must give the same documents, errors and locations as YAML parsed
 * here. In-process: a detached parse passed through `structuredClone` (what `postMessage` does) is compared with an
 * attached one, and both with `locate` as it walked the YAML document before, for every data path of every document. Through the CLI (real worker threads, `dist/`): `validate`
 * of a repository full of errors prints exactly the same with `RECONCILE_PARSE_WORKERS=2` as with `0`.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlias, isMap, isScalar, isSeq, type Node } from "yaml";
import { specDocuments } from "../../src/spec/load.js";
import { parseYamlText } from "../../src/spec/parse.js";
import { workerCount } from "../../src/spec/parse-pool.js";
import { type DataPath, locate, locationAt, type SourceDocument } from "../../src/spec/position.js";
import type { SourceLocation } from "../../src/spec/types.js";
import { runCli } from "../e2e/helpers.js";
import { FILES, paths, V1 } from "./yaml-files.js";

/**
 * `locate` as it was before positions could come from a worker (it walked the `Document`): the reference the
 * positions tree is checked against.
 */
function locateInDocument(source: SourceDocument, path: DataPath, at: "key" | "value"): SourceLocation {
  const doc = source.doc as NonNullable<SourceDocument["doc"]>;
  const keyText = (key: unknown) => (isScalar(key) ? String(key.value) : undefined);
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? doc.range[0];
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc) ?? null;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      const key = pair.key as Node | null;
      const value = pair.value as Node | null;
      if (i === path.length - 1 && at === "key" && key?.range) return locationAt(source, key.range[0]);
      node = value;
      offset = value?.range?.[0] ?? key?.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | null | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return locationAt(source, offset);
}

describe("YAML parsed in a worker thread", () => {
  it("gives the same documents, errors and locations (every path, key and value) as YAML parsed here", () => {
    for (const [file, text] of Object.entries(FILES)) {
      const here = specDocuments(file, `/r/${file}`, parseYamlText(text, false));
      const there = specDocuments(file, `/r/${file}`, structuredClone(parseYamlText(text, true)));
      expect(there.errors).toEqual(here.errors);
      expect(there.documents.map((d) => [d.index, d.data, d.location])).toEqual(
        here.documents.map((d) => [d.index, d.data, d.location]),
      );
      for (const [i, document] of here.documents.entries()) {
        const other = there.documents[i];
        if (!other) throw new Error("missing document");
        expect(other.doc).toBeUndefined();
        for (const path of paths(document.data)) {
          for (const at of ["key", "value"] as const) {
            const expected = locateInDocument(document, path, at);
            expect(locate(document, path, at), `${file} ${path.join(".")} ${at}`).toEqual(expected);
            expect(locate(other, path, at), `${file} ${path.join(".")} ${at}`).toEqual(expected);
          }
        }
      }
    }
  });

  it("workers are off below the threshold and when forced off, and forced on by RECONCILE_PARSE_WORKERS", () => {
    // From TypeScript sources the compiled worker is absent: always 0 here (the CLI test below uses dist/).
    expect(workerCount(10, { RECONCILE_PARSE_WORKERS: "2" })).toBe(0);
  });
});

describe("reconcile validate with worker threads (dist/)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "reconcile-parse-workers-"));
    await writeFile(join(dir, "reconcile.yaml"), "stack: workers\n");
    for (const [file, text] of Object.entries(FILES)) {
      await mkdir(join(dir, file, ".."), { recursive: true });
      await writeFile(join(dir, file), text);
    }
    // Enough files that every worker gets some, each with an error at a different line.
    for (let i = 0; i < 40; i++) {
      await writeFile(
        join(dir, "agents", `many-${i}.yaml`),
        `${V1}\nkind: Agent\nname: many-${i}\nmodel: claude-haiku-4-5\n${"\n".repeat(i % 5)}bogus_${i}: true\n`,
      );
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints exactly the same errors, locations and exit code as parsing in one thread", async () => {
    const single = await runCli(["validate", "--dir", dir], { RECONCILE_PARSE_WORKERS: "0" });
    const parallel = await runCli(["validate", "--dir", dir], { RECONCILE_PARSE_WORKERS: "2" });
    expect(single.code).toBe(1);
    expect(single.stderr).toContain("agents/many-39.yaml:9:1");
    expect(single.stderr).toContain("agents/syntax.yaml:4:1: invalid YAML");
    expect(parallel).toEqual(single);
    const json = await runCli(["validate", "--json", "--dir", dir], { RECONCILE_PARSE_WORKERS: "3" });
    expect(json).toEqual(await runCli(["validate", "--json", "--dir", dir], { RECONCILE_PARSE_WORKERS: "0" }));
  }, 120_000);
});
