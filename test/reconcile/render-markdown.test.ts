/**
 * The Markdown plan (the pull-request comment): structure, splitting into parts that are each valid Markdown, and
 * safety against hostile spec and live values. Each part is parsed with a CommonMark parser (markdown-it, HTML on, as
 * GitHub allows) and the resulting HTML with parse5, and the checks are made on that structure, the way GitHub would
 * see it: its mention and issue-reference filters link text outside `code`/`pre` only.
 */
import MarkdownIt from "markdown-it";
import { type DefaultTreeAdapterMap, parseFragment } from "parse5";
import { describe, expect, it } from "vitest";
import type { FieldChange } from "../../src/reconcile/diff.js";
import { escapeControl } from "../../src/reconcile/escape.js";
import { planDigest } from "../../src/reconcile/plan-digest.js";
import {
  codeFence,
  codeSpan,
  GITHUB_COMMENT_MAX,
  htmlText,
  markdownText,
  parsePlanMeta,
  planMarker,
  renderPlanMarkdown,
} from "../../src/reconcile/render-markdown.js";
import { promptDiff, summaryLine } from "../../src/reconcile/render-text.js";
import { binaryPlan, CANARY, HOSTILE_LINES, hostilePlan, largePlan, UNSAFE_RAW } from "./render-fixtures.js";

type Node = DefaultTreeAdapterMap["node"];
type Element = DefaultTreeAdapterMap["element"];

const md = new MarkdownIt({ html: true, linkify: true });

const isElement = (node: Node): node is Element => "tagName" in node;

function elements(node: Node, out: Element[] = []): Element[] {
  if (isElement(node)) out.push(node);
  for (const child of "childNodes" in node ? node.childNodes : []) elements(child, out);
  return out;
}

/** Text nodes with whether they sit inside `code` or `pre` (where GitHub links nothing). */
function texts(node: Node, inCode = false, out: { text: string; inCode: boolean }[] = []) {
  if (node.nodeName === "#text") out.push({ text: (node as DefaultTreeAdapterMap["textNode"]).value, inCode });
  const code = inCode || (isElement(node) && (node.tagName === "code" || node.tagName === "pre"));
  for (const child of "childNodes" in node ? node.childNodes : []) texts(child, code, out);
  return out;
}

const textOf = (node: Node): string =>
  texts(node)
    .map((t) => t.text)
    .join("");

/** The DOM GitHub would build from one comment body. */
const dom = (part: string) => parseFragment(md.render(part));

/**
 * Checks that a part is self-contained Markdown: every code fence closes inside the part (markdown-it runs an
 * unclosed fence to the end of the document), `<details>` blocks open and close in order, each with a `<summary>`
 * first, and the DOM has exactly as many `details` elements as the source opens.
 */
function expectValidPart(part: string): Element[] {
  const tokens = md.parse(part, {});
  const lines = part.split("\n");
  let depth = 0;
  let opened = 0;
  for (const token of tokens) {
    if (token.type === "fence") {
      const end = (token.map as [number, number])[1];
      expect(lines[end - 1], "a fence closes within its part").toBe(token.markup);
    }
    if (token.type === "html_block") {
      if (token.content.startsWith("<details>")) {
        depth++;
        opened++;
        expect(token.content).toMatch(/^<details>\n<summary>[^\n]*<\/summary>\n$/);
      } else if (token.content.startsWith("</details>")) depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
      expect(depth).toBeLessThanOrEqual(1);
    }
  }
  expect(depth, "every <details> is closed in its part").toBe(0);
  const details = elements(dom(part)).filter((e) => e.tagName === "details");
  expect(details).toHaveLength(opened);
  for (const d of details) expect(d.childNodes.filter(isElement)[0]?.tagName).toBe("summary");
  return details;
}

describe("renderPlanMarkdown: structure", () => {
  it("starts with the marker, then the summary, stack, target, head commit and plan digest", () => {
    const plan = hostilePlan();
    const parts = renderPlanMarkdown(plan, { head_sha: "0123456789abcdef0123456789abcdef01234567" });
    expect(parts).toHaveLength(1);
    const [part] = parts as [string];
    expect(part.split("\n")[0]).toBe(planMarker("test", "default"));
    expect(part.split("\n")[0]).toBe("<!-- reconcile-plan stack=test target=default -->");
    expect(parsePlanMeta(part)).toEqual({
      part: 1,
      of: 1,
      digest: planDigest(plan),
      head_sha: "0123456789abcdef0123456789abcdef01234567",
    });
    expect(part).toContain(`**${summaryLine(plan)}**`);
    expect(summaryLine(plan)).toMatch(/^Plan: 1 to create, 2 to update, 0 to replace, 0 to archive\.$/);
    const text = textOf(dom(part));
    expect(text).toContain("Commit: 0123456789abcdef0123456789abcdef01234567");
    expect(text).toContain(`Plan digest: ${planDigest(plan)}`);
    // One <details> per changed resource, then the kept resources; the warnings listed.
    const details = expectValidPart(part);
    const summaries = details.map((d) => textOf(d.childNodes.filter(isElement)[0] as Element));
    const changed = plan.actions.filter((a) => a.action !== "keep");
    expect(summaries).toHaveLength(changed.length + 1);
    for (const [i, action] of changed.entries()) {
      expect(summaries[i]?.replace(/\u200b/g, "")).toContain(escapeControl(action.address));
    }
    expect(summaries.at(-1)).toMatch(/^1 no longer declared in the specs, kept/);
    expect(text).toContain("Warnings");
  });

  it("shows a prompt change as a diff block with every line of the diff", () => {
    const plan = hostilePlan();
    const action = plan.actions.find((a) => a.address === "agent.updated");
    const change = action?.changes.find((c) => c.path === "system") as FieldChange;
    const part = renderPlanMarkdown(plan)[0] as string;
    const block = elements(dom(part)).find(
      (e) => e.tagName === "code" && e.attrs.some((a) => a.name === "class" && a.value === "language-diff"),
    );
    expect(block).toBeDefined();
    expect(textOf(block as Element)).toBe(
      `${promptDiff(change)
        .map((l) => escapeControl(l))
        .join("\n")}\n`,
    );
  });

  it("says No changes for an empty plan", () => {
    const plan = { ...hostilePlan(), actions: [], warnings: [] };
    plan.summary = { ...plan.summary, create: 0, update: 0, keep: 0 };
    const [part] = renderPlanMarkdown(plan);
    expect(part).toContain("**No changes. Live state matches the specs.**");
    expect(part).not.toContain("<details>");
  });

  it("refuses a part size too small to hold a section", () => {
    expect(() => renderPlanMarkdown(hostilePlan(), { maxChars: 100 })).toThrow(RangeError);
  });
});

describe("the meta line", () => {
  it("keeps a hostile head SHA inside one HTML comment and reads it back; malformed meta reads as none", () => {
    const head_sha = "abc --> <img src=x onerror=alert(1)> --!>\n# @team \u202e";
    const [part] = renderPlanMarkdown(hostilePlan(), { head_sha }) as [string];
    const meta = part.split("\n")[1] as string;
    expect(meta).toMatch(/^<!-- reconcile-plan-meta \{[^\n]*\} -->$/);
    expect(meta.slice(4, -3)).not.toMatch(/-->|--!>|[<>]/);
    expect(parsePlanMeta(part)).toMatchObject({ head_sha, part: 1, of: 1 });
    expect(parsePlanMeta(part.replace(/"digest":"[0-9a-f]+"/, '"digest":"--> x"'))).toBeUndefined();
    expect(parsePlanMeta(part.replace("reconcile-plan-meta {", "reconcile-plan-meta {{"))).toBeUndefined();
    expect(parsePlanMeta("<!-- reconcile-plan stack=a target=b -->\nno meta")).toBeUndefined();
  });
});

describe("renderPlanMarkdown: splitting", () => {
  // 80 agents with 30 changed prompt lines each (~4 KB of diff each), and one agent whose diff alone is ~2 comments.
  const plan = largePlan(80, 30, 1500);
  const parts = renderPlanMarkdown(plan, { head_sha: "abc1234" });

  it("splits a plan over 65,536 characters into parts within the limit, the summary in the first", () => {
    expect(parts.join("").length).toBeGreaterThan(GITHUB_COMMENT_MAX * 2);
    expect(parts.length).toBeGreaterThan(2);
    parts.forEach((part, i) => {
      expect(part.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX);
      const lines = part.split("\n");
      expect(lines[0]).toBe(planMarker("test", "default"));
      expect(parsePlanMeta(part)).toMatchObject({ part: i + 1, of: parts.length, digest: planDigest(plan) });
      expect(lines[2]).toContain(`(part ${i + 1} of ${parts.length})`);
      expect(part.includes(summaryLine(plan))).toBe(i === 0);
    });
  });

  it("keeps every part valid Markdown: fences and <details> balanced, nothing cut mid-block", () => {
    for (const part of parts) expectValidPart(part);
  });

  it("loses no line: the diff blocks of a section split across parts add up to its whole diff", () => {
    const giant = plan.actions.find((a) => a.address === "agent.giant");
    const change = giant?.changes.find((c) => c.path === "system") as FieldChange;
    const pieces: string[] = [];
    let sections = 0;
    for (const part of parts) {
      for (const d of elements(dom(part)).filter((e) => e.tagName === "details")) {
        if (!textOf(d.childNodes.filter(isElement)[0] as Element).includes("agent.giant")) continue;
        sections++;
        for (const code of elements(d).filter((e) => e.tagName === "code" && e.attrs.length > 0)) {
          pieces.push(textOf(code));
        }
      }
    }
    expect(sections).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(`${promptDiff(change).join("\n")}\n`);
    // Every other agent is shown, in exactly one part.
    const all = parts.join("\n");
    for (const action of plan.actions) expect(all).toContain(`<code>~ ${action.address}</code>`);
  });

  it("is deterministic, and honours a smaller maxChars", () => {
    expect(renderPlanMarkdown(plan, { head_sha: "abc1234" })).toEqual(parts);
    const small = renderPlanMarkdown(plan, { maxChars: 10_000 });
    expect(small.length).toBeGreaterThan(parts.length);
    for (const part of small) {
      expect(part.length).toBeLessThanOrEqual(10_000);
      expectValidPart(part);
    }
  });
});

describe("renderPlanMarkdown: hostile values", () => {
  const plan = hostilePlan();
  const parts = renderPlanMarkdown(plan);
  const part = parts[0] as string;
  const tree = dom(part);

  it("never contains the secret, and no raw control character or bidi override", () => {
    expect(JSON.stringify(plan)).not.toContain(CANARY);
    expect(part).not.toContain(CANARY);
    expect(part).not.toMatch(UNSAFE_RAW);
    expect(part).toContain("\\u001b[1A\\u001b[2K");
    expect(part).toContain("\\u202e");
  });

  it("injects no HTML: only the renderer's own elements, no attributes but the code language", () => {
    const allowed = new Set(["h3", "p", "strong", "ul", "li", "details", "summary", "code", "pre", "a"]);
    for (const e of elements(tree)) {
      expect(allowed, `<${e.tagName}>`).toContain(e.tagName);
      if (e.tagName === "a") {
        // linkify: only http(s) URLs the spec wrote, never javascript:
        for (const attr of e.attrs) expect(attr.value).not.toMatch(/^javascript:/i);
      } else {
        for (const attr of e.attrs) expect(`${e.tagName} ${attr.name}=${attr.value}`).toMatch(/^code class=language-/);
      }
    }
  });

  it("mentions no one and links no issue: outside code, @, # and GH- are never followed by a name or number", () => {
    const outside = texts(tree).filter((t) => !t.inCode);
    expect(outside.length).toBeGreaterThan(0);
    for (const { text } of outside) {
      expect(text).not.toMatch(/@[A-Za-z0-9]/);
      expect(text).not.toMatch(/#[0-9]/);
      expect(text).not.toMatch(/GH-[0-9]/i);
    }
    // The hostile text is still shown (as code, or broken by a zero-width space), not dropped.
    const all = textOf(tree);
    expect(all).toContain("@someone please look");
    expect(all).toContain("@\u200bsomeone please look");
  });

  it("cannot close a <details> or a fence: the hostile lines stay inside the prompt's diff block", () => {
    const details = expectValidPart(part);
    expect(details).toHaveLength(plan.actions.length);
    const diff = elements(tree).find((e) =>
      e.attrs.some((a) => a.name === "class" && a.value === "language-diff"),
    ) as Element;
    const lines = textOf(diff).split("\n");
    for (const hostile of HOSTILE_LINES) expect(lines).toContain(`+${escapeControl(hostile)}`);
    // The summaries show the hostile name as text, inside <code>.
    const summary = details
      .map((d) => d.childNodes.filter(isElement)[0] as Element)
      .find((s) => textOf(s).includes("evil"));
    expect(textOf(summary as Element)).toContain("+ agent.evil</details>@\u200bsomeone#\u200b1\\u001b[2K");
  });
});

describe("renderPlanMarkdown: binary and huge values", () => {
  it("a binary prompt and a 1 MB one-line description give valid parts with no raw control character", () => {
    const parts = renderPlanMarkdown(binaryPlan());
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX);
      expect(part).not.toMatch(UNSAFE_RAW);
      expectValidPart(part);
    }
    expect(parts.join("")).toContain("(999002 more characters)");
  });
});

describe("escapers", () => {
  it("codeSpan uses a delimiter longer than any backtick run and survives edge values", () => {
    for (const value of ["a`b", "``x``", "`", " padded ", "", "x\ny", "</details>"]) {
      const html = md.renderInline(codeSpan(value));
      expect(html.startsWith("<code>") && html.endsWith("</code>")).toBe(true);
      expect(textOf(parseFragment(html))).toBe(value === "" ? " " : escapeControl(value));
    }
  });

  it("codeFence is never closed by its content", () => {
    const lines = ["```", "````", "    ```", "~~~", "`````` trailing"];
    const tokens = md.parse(codeFence("diff", lines), {});
    expect(tokens.map((t) => t.type)).toEqual(["fence"]);
    expect(tokens[0]?.content).toBe(`${lines.join("\n")}\n`);
  });

  it("markdownText and htmlText render back to the text, with references broken", () => {
    const value = "a *b* _c_ [d](e) <f> & @g #1 GH-2 `h` \\ | ~ !";
    const rendered = textOf(parseFragment(md.renderInline(markdownText(value))));
    expect(rendered.replace(/\u200b/g, "")).toBe(value);
    expect(textOf(parseFragment(htmlText(value))).replace(/\u200b/g, "")).toBe(value);
  });
});
