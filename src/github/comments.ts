/**
 * Sticky pull-request comments: one comment (or one per part, for output over GitHub's 65,536-character limit) per
 * pull request and key, found again by a hidden marker on its first line and edited in place on every push, so a
 * pull request never collects a comment per run.
 *
 * Follows the sticky-comment tools (marocchino/sticky-pull-request-comment, tfcmt; ANCHORS.md "Sticky comments"):
 * the marker is an HTML comment GitHub does not render; a comment counts only when it starts with the marker AND was
 * written by the expected author (a marker pasted by someone else is ignored); comments are read through every page;
 * surplus parts of a longer earlier plan are deleted; after creating, the list is read again and a concurrent run's
 * duplicates (same marker, same part count) are removed, keeping the lowest ids.
 */
import type { GitHub } from "./octokit.js";

/** GitHub's limit on an issue comment body, in characters. */
export const COMMENT_MAX_CHARS = 65_536;

/** The pull request (an issue, for the comments API) a comment belongs to. */
export interface IssueRef {
  owner: string;
  repo: string;
  issue_number: number;
}

/** Options of `upsertStickyComments`. */
export interface StickyOptions {
  /**
   * The hidden marker, the first line of every part: an HTML comment naming what the comment is about, such as
   * `<!-- reconcile-plan stack=fleet target=prod -->`. Comments whose first line is another marker are left alone.
   */
  marker: string;
  /** The bodies, in order; each must start with `marker` and fit `COMMENT_MAX_CHARS`. At least one. */
  parts: readonly string[];
  /**
   * Only comments by this login count as ours (`github-actions[bot]` in Actions, `<app-slug>[bot]` for an App).
   * Without it, any author's comment with the marker counts: use that only with a token whose comments no one else
   * can forge.
   */
  author?: string;
}

/** What `upsertStickyComments` did. */
export interface StickyResult {
  /** The ids of the comments now holding the parts, in part order. */
  ids: number[];
  /** The URL of the first part (the summary), for links in logs and job summaries. */
  url: string;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

/** A comment as the issues API lists it (the fields reconcile reads). */
export interface CommentRow {
  id: number;
  body?: string | null;
  html_url: string;
  user: { login: string } | null;
}

/** The first line of `body` (without a trailing `\r`). */
const firstLine = (body: string | null | undefined) => (body ?? "").split("\n", 1)[0]?.replace(/\r$/, "") ?? "";

/**
 * Every comment of the issue that carries `marker` on its first line (and is by `author`, when given), oldest (lowest
 * id) first: the parts `upsertStickyComments` wrote, in order. Reads every page.
 * @throws the octokit `RequestError` of a failed request
 */
export async function readStickyComments(
  github: GitHub,
  issue: IssueRef,
  marker: string,
  author?: string,
): Promise<CommentRow[]> {
  return findOurs(github, issue, marker, author);
}

async function findOurs(github: GitHub, issue: IssueRef, marker: string, author?: string): Promise<CommentRow[]> {
  const all = (await github.paginate(github.rest.issues.listComments, { ...issue, per_page: 100 })) as CommentRow[];
  return all
    .filter((c) => firstLine(c.body) === marker && (author === undefined || c.user?.login === author))
    .sort((a, b) => a.id - b.id);
}

/**
 * Makes the issue's sticky comments for `options.marker` hold exactly `options.parts`: edits the existing ones in
 * place (skipping those already equal), creates the missing ones, and deletes surplus ones.
 * @throws Error when `parts` is empty, a part does not start with the marker, or a part exceeds COMMENT_MAX_CHARS
 * @throws the octokit `RequestError` of a failed request (after plugin-retry's retries); parts written before it stay
 */
export async function upsertStickyComments(
  github: GitHub,
  issue: IssueRef,
  options: StickyOptions,
): Promise<StickyResult> {
  const { marker, parts, author } = options;
  if (parts.length === 0) throw new Error("no comment parts to post");
  if (!/^<!--.*-->$/.test(marker) || marker.includes("\n")) {
    throw new Error("the comment marker must be one line holding an HTML comment");
  }
  for (const [i, part] of parts.entries()) {
    if (firstLine(part) !== marker) throw new Error(`comment part ${i + 1} does not start with the marker line`);
    if (part.length > COMMENT_MAX_CHARS) {
      throw new Error(`comment part ${i + 1} has ${part.length} characters; GitHub allows ${COMMENT_MAX_CHARS}`);
    }
  }
  const result: StickyResult = { ids: [], url: "", created: 0, updated: 0, unchanged: 0, deleted: 0 };
  const existing = await findOurs(github, issue, marker, author);
  const urls: string[] = [];
  for (const [i, body] of parts.entries()) {
    const current = existing[i];
    if (current && current.body === body) {
      result.unchanged++;
      result.ids.push(current.id);
      urls.push(current.html_url);
    } else if (current) {
      const { data } = await github.rest.issues.updateComment({ ...issue, comment_id: current.id, body });
      result.updated++;
      result.ids.push(data.id);
      urls.push(data.html_url);
    } else {
      const { data } = await github.rest.issues.createComment({ ...issue, body });
      result.created++;
      result.ids.push(data.id);
      urls.push(data.html_url);
    }
  }
  let surplus = existing.slice(parts.length);
  if (result.created > 0) {
    // A concurrent run may have created its own parts meanwhile. Both runs keep the lowest ids (the same rule on
    // both sides converges on one set) and write their parts there; the rest is surplus.
    const now = await findOurs(github, issue, marker, author);
    if (now.length > parts.length) {
      for (const [i, kept] of now.slice(0, parts.length).entries()) {
        if (kept.id === result.ids[i]) continue;
        const { data } = await github.rest.issues.updateComment({
          ...issue,
          comment_id: kept.id,
          body: parts[i] as string,
        });
        result.ids[i] = data.id;
        urls[i] = data.html_url;
        result.updated++;
      }
      surplus = now.slice(parts.length);
    }
  }
  for (const comment of surplus) {
    await github.rest.issues.deleteComment({ ...issue, comment_id: comment.id });
    result.deleted++;
  }
  result.url = urls[0] ?? "";
  return result;
}
