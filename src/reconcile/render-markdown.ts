/**
 * Renders a plan as GitHub-flavoured Markdown for a pull-request comment (the Atlantis convention): a hidden marker
 * that a later GitHub step finds the comment by, the summary line, stack, target, head commit and plan digest, then
 * one collapsible `<details>` section per changed resource with its field changes (prompt changes as a ```diff
 * block), the resources kept, and the warnings. Built from the same `Plan` object as the text and JSON renderings.
 *
 * GitHub refuses comments over 65,536 characters, so the output is a list of parts, each within `maxChars`, split
 * only between blocks (never inside a code fence or a `<details>` element; a section too long for one part continues
 * in a new `<details>` marked "continued"). Every part starts with the same marker line (`planMarker`), then a meta
 * line with the part number, the plan digest and the head commit (`planMetaLine`), and says "part N of M".
 *
 * Every value from a spec or the live state is escaped for the context it lands in (see docs/adr/0012-safe-rendering.md):
 * code spans and fences longer than any backtick run in their content; HTML-escaped text with @-mentions and issue
 * references broken by a zero-width space outside code; control characters and bidi overrides as `\u001b` escapes
 * (`escapeControl`). Secrets are already masked in the plan (`(sensitive)`).
 */

import type { FieldChange } from "./diff.js";
import { escapeControl } from "./escape.js";
import type { Plan, PlannedAction } from "./plan.js";
import { planDigest } from "./plan-digest.js";
import {
  actionNote,
  createdLines,
  isEmpty,
  multiline,
  promptDiff,
  SYMBOL,
  showValue,
  summaryLine,
} from "./render-text.js";

/** The largest comment body GitHub accepts, in characters. */
export const GITHUB_COMMENT_MAX = 65_536;

/** The smallest `maxChars` accepted: room for the headers, a section's summary and one cut line. */
export const MIN_MAX_CHARS = 8_000;

/** Longest inline value (after control escapes) before it is cut with `…`. */
const INLINE_MAX = 1_000;
/** Longest line of a code block (after control escapes) before it is cut. */
const LINE_MAX = 2_000;

/** Options of `renderPlanMarkdown`. */
export interface MarkdownOptions {
  /** The pull request's head commit, shown in the first part. */
  head_sha?: string;
  /** The largest part, in UTF-16 code units (at least `MIN_MAX_CHARS`); default `GITHUB_COMMENT_MAX`. */
  maxChars?: number;
}

/** Zero-width space: breaks a GitHub autolink pattern without changing what a reader sees. */
const ZWSP = "\u200b";

const clip = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;

/**
 * Breaks what GitHub links in text (outside code): `@user` and `@org/team` mentions, `#123` and `owner/repo#123`
 * issue references, `GH-123` references, by a zero-width space after `@`, `#` or `GH-`.
 */
function breakReferences(text: string): string {
  return text
    .replace(/@(?=[A-Za-z0-9])/g, `@${ZWSP}`)
    .replace(/#(?=[0-9])/g, `#${ZWSP}`)
    .replace(/\b(GH-)(?=[0-9])/gi, `$1${ZWSP}`);
}

/** Text inside an HTML block (`<summary>`): control escapes, references broken, `& < > " '` as entities. */
export function htmlText(text: string, max = INLINE_MAX): string {
  return breakReferences(clip(escapeControl(text), max)).replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] as string,
  );
}

/**
 * Text in Markdown (paragraphs, list items): control escapes, references broken, and every ASCII punctuation
 * character backslash-escaped (CommonMark: any ASCII punctuation may be escaped), so no emphasis, link, HTML tag,
 * entity, heading or code span can start.
 */
export function markdownText(text: string, max = INLINE_MAX): string {
  return breakReferences(clip(escapeControl(text), max)).replace(/[!-/:-@[-`{-~]/g, (ch) => `\\${ch}`);
}

/** The longest run of backticks in `text` (0 without any). */
const longestTicks = (text: string): number =>
  (text.match(/`+/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0);

/**
 * A code span: control escapes, delimited by one backtick more than the longest run inside, so a backtick in the
 * value cannot end it; padded with a space on each side when the value starts or ends with a backtick or with spaces
 * on both ends (CommonMark strips exactly one space from each side then). GitHub links nothing in code.
 */
export function codeSpan(text: string, max = INLINE_MAX): string {
  const content = clip(escapeControl(text), max);
  if (content === "") return "` `";
  const ticks = "`".repeat(longestTicks(content) + 1);
  const pad =
    content.startsWith("`") || content.endsWith("`") || (content.startsWith(" ") && content.endsWith(" ")) ? " " : "";
  return `${ticks}${pad}${content}${pad}${ticks}`;
}

/** An HTML `<code>` element for an HTML block: its text HTML-escaped (Markdown is not parsed in HTML blocks). */
const htmlCode = (text: string, max = INLINE_MAX): string => `<code>${htmlText(text, max)}</code>`;

/** Longest address or note in a `<summary>`, and stack or target in a header, before they are cut. */
const NAME_MAX = 200;

/** A line as a code block shows it: control-escaped (tabs kept) and cut at `LINE_MAX`. */
const fenceLine = (line: string): string => clip(escapeControl(line), LINE_MAX);

/**
 * A fenced code block: each line control-escaped (tabs kept) and cut at `LINE_MAX`, fenced by backticks one longer
 * than the longest run in any line (at least three), so no line can close it.
 */
export function codeFence(info: string, lines: readonly string[]): string {
  const body = lines.map(fenceLine);
  const fence = "`".repeat(
    Math.max(
      3,
      body.reduce((max, line) => Math.max(max, longestTicks(line) + 1), 0),
    ),
  );
  return [`${fence}${info}`, ...body, fence].join("\n");
}

/** One entry of a section: a list item, or a code block (never split inside a line). */
type Item = { kind: "item"; text: string } | { kind: "fence"; info: string; lines: string[] };

/** A block that may be split: rendered as `open`, the items, `close`; continuations use `openContinued`. */
interface Section {
  open: string;
  openContinued: string;
  close: string;
  items: Item[];
}

function renderItems(items: readonly Item[]): string {
  let out = "";
  items.forEach((item, i) => {
    const text = item.kind === "item" ? `- ${item.text}` : codeFence(item.info, item.lines);
    out += i === 0 ? text : `${item.kind === "item" && items[i - 1]?.kind === "item" ? "\n" : "\n\n"}${text}`;
  });
  return out;
}

function renderSection(section: Section, items: readonly Item[], continued: boolean): string {
  return [continued ? section.openContinued : section.open, renderItems(items), section.close]
    .filter((s) => s !== "")
    .join("\n\n");
}

/**
 * Splits a section into rendered pieces of at most `budget` characters: items are packed greedily, and a code block
 * that does not fit is split between lines into several blocks. Each piece is a complete `<details>` (or plain) block.
 */
function splitSection(section: Section, budget: number): string[] {
  const pieces: string[] = [];
  let current: Item[] = [];
  const size = (items: Item[]) => renderSection(section, items, pieces.length > 0).length;
  const flush = () => {
    if (current.length > 0) pieces.push(renderSection(section, current, pieces.length > 0));
    current = [];
  };
  for (const item of section.items) {
    if (size([...current, item]) <= budget) {
      current.push(item);
      continue;
    }
    if (item.kind === "item") {
      flush();
      current.push(item);
      continue;
    }
    // A code block that does not fit: fill the current piece, then continue it in the next ones. The size of a
    // fence of k lines is that of an empty one (3-backtick fence) plus the wider fence, the lines and their breaks.
    const shown = item.lines.map(fenceLine);
    let start = 0;
    while (start < shown.length) {
      const empty = size([...current, { ...item, lines: [] }]);
      let end = start;
      let total = 0;
      let ticks = 0;
      while (end < shown.length) {
        const line = shown[end] as string;
        const nextTicks = Math.max(ticks, longestTicks(line) + 1);
        const fenceGrowth = 2 * (Math.max(3, nextTicks) - 3);
        if (empty + fenceGrowth + total + line.length + (end - start + 1) > budget) break;
        total += line.length;
        ticks = nextTicks;
        end++;
      }
      if (end === start && current.length === 0) end = start + 1; // cannot happen with MIN_MAX_CHARS; never loop
      if (end > start) current.push({ ...item, lines: item.lines.slice(start, end) });
      start = end;
      if (start < shown.length) flush();
    }
  }
  flush();
  return pieces;
}

/** The list items and code blocks that show one action's field changes. */
function changeItems(action: PlannedAction): Item[] {
  if (action.action === "create") {
    const lines = action.changes.filter((c) => !isEmpty(c.after)).flatMap((c) => createdLines(c, ""));
    return lines.length > 0 ? [{ kind: "fence", info: "yaml", lines }] : [];
  }
  const items: Item[] = [];
  for (const change of action.changes) items.push(...fieldItems(change));
  if (action.id && (action.action === "archive" || action.action === "delete")) {
    items.push({ kind: "item", text: `id ${codeSpan(action.id)}` });
  }
  return items;
}

function fieldItems(change: FieldChange): Item[] {
  const path = codeSpan(change.path);
  if (!change.sensitive && (multiline(change.before) || multiline(change.after))) {
    return [
      { kind: "item", text: `${path} changes:` },
      { kind: "fence", info: "diff", lines: promptDiff(change) },
    ];
  }
  if (!("before" in change)) return [{ kind: "item", text: `${path} added: ${codeSpan(showValue(change.after))}` }];
  if (!("after" in change)) return [{ kind: "item", text: `${path} removed: ${codeSpan(showValue(change.before))}` }];
  return [
    { kind: "item", text: `${path}: ${codeSpan(showValue(change.before))} → ${codeSpan(showValue(change.after))}` },
  ];
}

function actionSection(action: PlannedAction, annotations: readonly string[] = []): Section {
  const note = actionNote(action);
  const address = htmlCode(`${SYMBOL[action.action]} ${action.address}`, NAME_MAX);
  const summary = `${address} ${action.action}${note ? ` (${htmlText(note, NAME_MAX)})` : ""}`;
  const notes: Item[] = annotations.length > 0 ? [{ kind: "fence", info: "", lines: [...annotations] }] : [];
  return {
    open: `<details>\n<summary>${summary}</summary>`,
    openContinued: `<details>\n<summary>${summary} (continued)</summary>`,
    close: "</details>",
    items: [...changeItems(action), ...notes],
  };
}

function planSections(plan: Plan): Section[] {
  const sections = plan.actions
    .filter((a) => a.action !== "keep")
    .map((a) => actionSection(a, plan.annotations?.[a.address]));
  const kept = plan.actions.filter((a) => a.action === "keep");
  if (kept.length > 0) {
    const summary = `${kept.length} no longer declared in the specs, kept (archive them with <code>--prune</code>)`;
    sections.push({
      open: `<details>\n<summary>${summary}</summary>`,
      openContinued: `<details>\n<summary>${summary} (continued)</summary>`,
      close: "</details>",
      items: kept.map((a) => ({ kind: "item", text: `${codeSpan(a.address)} ${codeSpan(a.id ?? "")}` })),
    });
  }
  const variables = Object.entries(plan.secret_variables ?? {}).filter(([, names]) => names.length > 0);
  if (variables.length > 0) {
    sections.push({
      open: "**Credentials read these variables** (names only)",
      openContinued: "**Credentials read these variables (continued)**",
      close: "",
      items: variables.map(([address, names]) => ({
        kind: "item",
        text: `${codeSpan(address)} reads ${names.map((n) => codeSpan(n)).join(", ")}`,
      })),
    });
  }
  if (plan.warnings.length > 0) {
    sections.push({
      open: "**Warnings**",
      openContinued: "**Warnings (continued)**",
      close: "",
      items: plan.warnings.map((w) => ({ kind: "item", text: markdownText(w) })),
    });
  }
  return sections;
}

/**
 * The hidden marker a comment starts with: `<!-- reconcile-plan stack=S target=T -->`, the values percent-encoded
 * (`encodeURIComponent`) so that none can end the HTML comment. The same on every part and every push, so the
 * sticky-comment step (`upsertStickyComments`) finds the comments of a stack and target again; the part number and
 * the digest are on the second line (`planMeta`).
 */
export function planMarker(stack: string, target: string): string {
  const encode = (value: string) => encodeURIComponent(value.replace(/\p{Surrogate}/gu, "\ufffd"));
  return `<!-- reconcile-plan stack=${encode(stack)} target=${encode(target)} -->`;
}

/** What the second line of every part records, for a later run to read back (`parsePlanMeta`). */
export interface PlanMeta {
  /** This part's number, from 1. */
  part: number;
  /** How many parts the plan has. */
  of: number;
  /** `planDigest(plan)`: what the reviewed plan does. */
  digest: string;
  /** The head commit the plan was made for, when known. */
  head_sha?: string;
}

/** The prefix of the meta line. */
const META_PREFIX = "<!-- reconcile-plan-meta ";

/**
 * The hidden second line of every part: `<!-- reconcile-plan-meta {"part":1,"of":2,"digest":"…","head_sha":"…"} -->`,
 * JSON with `<`, `>` and `&` as `\u` escapes so it cannot end the HTML comment.
 */
export function planMetaLine(meta: PlanMeta): string {
  const json = JSON.stringify(meta).replace(/[<>&]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `${META_PREFIX}${json} -->`;
}

/**
 * Reads the meta line (the second line) of a comment body written by `renderPlanMarkdown`.
 * @returns the meta, or undefined when the line is missing or malformed (a hand-edited comment counts as no plan)
 */
export function parsePlanMeta(body: string): PlanMeta | undefined {
  const line = body.split("\n", 2)[1]?.replace(/\r$/, "") ?? "";
  if (!line.startsWith(META_PREFIX) || !line.endsWith(" -->")) return undefined;
  try {
    const value = JSON.parse(line.slice(META_PREFIX.length, -4)) as Record<string, unknown>;
    const { part, of, digest, head_sha } = value;
    if (
      !Number.isInteger(part) ||
      !Number.isInteger(of) ||
      typeof digest !== "string" ||
      !/^[0-9a-f]{16,128}$/.test(digest)
    ) {
      return undefined;
    }
    return {
      part: part as number,
      of: of as number,
      digest,
      ...(typeof head_sha === "string" ? { head_sha } : {}),
    };
  } catch {
    return undefined;
  }
}

function header(plan: Plan, options: MarkdownOptions, n: string, of: string, first: boolean): string {
  const many = of !== "1";
  const stack = codeSpan(plan.stack, NAME_MAX);
  const target = codeSpan(plan.target, NAME_MAX);
  const title = `### reconcile plan for ${stack} on ${target}${many ? ` (part ${n} of ${of})` : ""}`;
  const meta = planMetaLine({
    part: Number(n),
    of: Number(of),
    digest: planDigest(plan),
    ...(options.head_sha ? { head_sha: options.head_sha } : {}),
  });
  const marker = `${planMarker(plan.stack, plan.target)}\n${meta}`;
  if (!first) return `${marker}\n${title}`;
  const facts = [
    `- Stack: ${stack}`,
    `- Target: ${target}`,
    ...(options.head_sha ? [`- Commit: ${codeSpan(options.head_sha, NAME_MAX)}`] : []),
    `- Plan digest: ${codeSpan(planDigest(plan))}`,
  ];
  // The summary line is our own text (counts only), so it needs no escaping.
  return `${marker}\n${title}\n\n**${summaryLine(plan)}**\n\n${facts.join("\n")}`;
}

/**
 * The plan as GitHub Markdown comment bodies: one string per part, each at most `maxChars` characters, the first
 * with the summary. Pure: same plan and options, same parts.
 * @throws RangeError when `maxChars` is below `MIN_MAX_CHARS`
 */
export function renderPlanMarkdown(plan: Plan, options: MarkdownOptions = {}): string[] {
  const maxChars = options.maxChars ?? GITHUB_COMMENT_MAX;
  if (!Number.isInteger(maxChars) || maxChars < MIN_MAX_CHARS) {
    throw new RangeError(`renderPlanMarkdown: maxChars must be an integer >= ${MIN_MAX_CHARS}, got ${maxChars}`);
  }
  // Reserve room for the part numbers before knowing how many parts there are.
  const wide = "9".repeat(String(maxChars).length + 6);
  const room = (first: boolean) => maxChars - header(plan, options, wide, wide, first).length - 2 - 1;
  const pieceBudget = Math.min(room(true), room(false));

  const parts: string[][] = [[]];
  let used = 0;
  const add = (piece: string) => {
    const cost = piece.length + 2;
    if (used + cost > room(parts.length === 1) && (parts.at(-1) as string[]).length > 0) {
      parts.push([]);
      used = 0;
    }
    (parts.at(-1) as string[]).push(piece);
    used += cost;
  };
  for (const section of planSections(plan)) {
    const whole = renderSection(section, section.items, false);
    if (whole.length + 2 <= room(parts.length === 1) - used || whole.length <= pieceBudget) add(whole);
    else for (const piece of splitSection(section, pieceBudget)) add(piece);
  }
  const of = String(parts.length);
  return parts.map((pieces, i) =>
    [header(plan, options, String(i + 1), of, i === 0), ...pieces].join("\n\n").concat("\n"),
  );
}
