/**
 * Test helpers for the GitHub App: an RSA key pair for App JWTs (node:crypto), GitHub-shaped repository tarballs
 * built entry by entry with node-tar's `Header` (so hostile entries can be staged), and a recording fake of the
 * pipeline the App drives, whose runs can be held open to stage overlaps.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { Header } from "tar";
import type { AppPipeline, DriftContext, MergeContext, PullRequestContext } from "../../src/github/app-pipeline.js";
import { upsertStickyComments } from "../../src/github/comments.js";

/** A fresh 2048-bit RSA key pair: the private key as GitHub serves it (PKCS#1 PEM), the public key object. */
export function appKeyPair(): { privateKey: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(), publicKey };
}

/** One tar entry: a regular file (content), a folder (`type: "Directory"`), or anything else to stage an attack. */
export interface TarEntry {
  path: string;
  content?: string;
  type?: "File" | "Directory" | "SymbolicLink" | "Link" | "CharacterDevice";
  linkpath?: string;
}

/** A gzipped tarball of `entries`, each under `top/` unless its path starts with `!` (taken as is, minus the `!`). */
export function repoTarball(top: string, entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.content ?? "");
    const type = e.type ?? (e.path.endsWith("/") ? "Directory" : "File");
    const header = new Header({
      path: e.path.startsWith("!") ? e.path.slice(1) : `${top}/${e.path}`,
      mode: type === "Directory" ? 0o755 : 0o644,
      size: type === "File" ? body.length : 0,
      type,
      mtime: new Date(0),
      ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === "File" && body.length > 0) {
      blocks.push(Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]));
    }
  }
  return gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)]));
}

/** The files under `dir`, as sorted relative paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** One recorded pipeline call. */
export interface PipelineCall {
  kind: "plan" | "apply" | "drift";
  sha: string;
  dir: string;
  files: string[];
  aborted: boolean;
}

/** A gate a test opens to let a held pipeline call finish. */
export interface Gate {
  promise: Promise<void>;
  open(): void;
}

/** A new closed gate. */
export function gate(): Gate {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The marker of the fake pipeline's plan comment. */
export const FAKE_MARKER = "<!-- reconcile-plan test -->";

/**
 * A fake pipeline recording every call (with the checkout's file list, read while the call runs). `hold(sha)`
 * returns a gate the call for that SHA waits on. Plans post a sticky comment naming the head SHA, unless aborted,
 * the way the real pipeline must; with `ignoreAbort` they post anyway (a pipeline that ignores the signal).
 * `active` counts calls running now, `maxActive` the most at once per kind.
 */
export function fakePipeline(options: { ignoreAbort?: boolean; botLogin?: string } = {}) {
  const calls: PipelineCall[] = [];
  const holds = new Map<string, Gate>();
  const active = { plan: 0, apply: 0, drift: 0 };
  const maxActive = { plan: 0, apply: 0, drift: 0 };
  const record = async (kind: PipelineCall["kind"], sha: string, dir: string, signal: AbortSignal) => {
    active[kind]++;
    maxActive[kind] = Math.max(maxActive[kind], active[kind]);
    try {
      const call: PipelineCall = { kind, sha, dir, files: await listFiles(dir), aborted: false };
      calls.push(call);
      await holds.get(sha)?.promise;
      call.aborted = signal.aborted;
      return call;
    } finally {
      active[kind]--;
    }
  };
  const pipeline: AppPipeline = {
    async planPullRequest(dir: string, ctx: PullRequestContext) {
      await record("plan", ctx.head_sha, dir, ctx.signal);
      if (!ctx.signal.aborted || options.ignoreAbort) {
        await upsertStickyComments(
          ctx.octokit,
          { owner: ctx.owner, repo: ctx.repo, issue_number: ctx.pull_number },
          { marker: FAKE_MARKER, parts: [`${FAKE_MARKER}\nPlan for ${ctx.head_sha}`], author: options.botLogin },
        );
      }
      return { conclusion: "success", title: "Plan: 1 to create", summary: `Planned ${ctx.head_sha}` };
    },
    async applyMerge(dir: string, ctx: MergeContext) {
      await record("apply", ctx.sha, dir, ctx.signal);
      return { conclusion: "success", title: "Applied" };
    },
    async driftCheck(dir: string, ctx: DriftContext) {
      await record("drift", ctx.sha, dir, ctx.signal);
      return { conclusion: "success", title: "No drift" };
    },
  };
  return {
    pipeline,
    calls,
    maxActive,
    hold(sha: string) {
      const g = gate();
      holds.set(sha, g);
      return g;
    },
  };
}
