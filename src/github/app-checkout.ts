/**
 * A commit checked out for one run of the App: its tarball downloaded through the API
 * (`GET /repos/{owner}/{repo}/tarball/{ref}`, with the installation token; a redirect to codeload is followed by
 * fetch), capped while it streams in, then checked and extracted by `extractRepositoryTarball` into a fresh
 * temporary folder that is always removed afterwards, whatever the run did.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { GitHub } from "./octokit.js";
import { DEFAULT_TARBALL_LIMITS, extractRepositoryTarball, type TarballLimits, UnsafeTarballError } from "./tarball.js";

/** Largest tarball downloaded, in bytes (default 50 MiB, compressed). */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024;

/** Where and how much a checkout may take. */
export interface CheckoutOptions {
  /** Parent of the temporary folders (default the OS temp dir). */
  tempRoot?: string;
  /** Cap on the compressed download, in bytes. */
  maxDownloadBytes?: number;
  /** Caps on the extracted content. */
  limits?: TarballLimits;
}

/** The commit to check out. */
export interface CommitRef {
  owner: string;
  repo: string;
  /** A commit SHA (never a branch name: the run must see exactly the commit the event names). */
  ref: string;
}

/** Reads `stream` into one buffer, failing as soon as it passes `max` bytes. */
async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) throw new UnsafeTarballError(`the download is larger than ${max} bytes`);
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks);
}

/**
 * Downloads the tarball of `commit` with `octokit`, at most `maxBytes` (checked on `content-length` first, then
 * while reading).
 * @throws UnsafeTarballError when it is larger; the octokit RequestError when GitHub refuses (404, 403)
 */
export async function downloadTarball(
  octokit: GitHub,
  commit: CommitRef,
  maxBytes = DEFAULT_MAX_DOWNLOAD_BYTES,
): Promise<Buffer> {
  const response = await octokit.request("GET /repos/{owner}/{repo}/tarball/{ref}", {
    ...commit,
    request: { parseSuccessResponseBody: false },
  });
  const length = Number(response.headers["content-length"] ?? Number.NaN);
  const body = response.data as unknown as ReadableStream<Uint8Array> | null;
  if (Number.isFinite(length) && length > maxBytes) {
    await body?.cancel().catch(() => {});
    throw new UnsafeTarballError(`the download is larger than ${maxBytes} bytes`);
  }
  if (!body) throw new UnsafeTarballError("GitHub answered without a body");
  return readCapped(body, maxBytes);
}

/**
 * Checks out `commit` into a new temporary folder, runs `body` with that folder (the repository root), and removes
 * the folder afterwards, also when the download, the extraction or `body` throws.
 * @returns what `body` returns
 * @throws UnsafeTarballError when the tarball is refused (nothing is left on disk); any error of `body`
 */
export async function withCheckout<T>(
  octokit: GitHub,
  commit: CommitRef,
  options: CheckoutOptions,
  body: (checkoutDir: string) => Promise<T>,
): Promise<T> {
  const parent = await mkdtemp(path.join(options.tempRoot ?? tmpdir(), "reconcile-app-"));
  try {
    const tarball = await downloadTarball(octokit, commit, options.maxDownloadBytes);
    const checkoutDir = path.join(parent, "repo");
    await extractRepositoryTarball(tarball, checkoutDir, options.limits ?? DEFAULT_TARBALL_LIMITS);
    return await body(checkoutDir);
  } finally {
    await rm(parent, { recursive: true, force: true, maxRetries: 3 });
  }
}
