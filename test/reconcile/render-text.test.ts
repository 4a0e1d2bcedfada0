/**
 * Terminal safety of the text and JSON plans (issue 6, item 7): a value from a spec or the live state can never
 * print a raw control character or bidi override; they show as `\u001b`-style escapes, and only the colours are real
 * escape sequences. One escaping function (`escapeControl`) serves every renderer.
 */
import { describe, expect, it } from "vitest";
import { escapeControl, escapeJsonText } from "../../src/reconcile/escape.js";
import { renderPlanJson } from "../../src/reconcile/plan-file.js";
import { renderPlanMarkdown } from "../../src/reconcile/render-markdown.js";
import { promptDiff, renderPlanText } from "../../src/reconcile/render-text.js";
import { C0, CANARY, HOSTILE_LINES, hostilePlan, largePlan, UNSAFE_RAW } from "./render-fixtures.js";

describe("escapeControl", () => {
  it("escapes C0 (but tab), DEL, C1 and the bidi overrides and isolates, and nothing else", () => {
    const unsafe = [
      ...Array.from({ length: 32 }, (_, i) => i).filter((i) => i !== 9),
      0x7f,
      ...Array.from({ length: 32 }, (_, i) => 0x80 + i),
      0x202a,
      0x202b,
      0x202c,
      0x202d,
      0x202e,
      0x2066,
      0x2067,
      0x2068,
      0x2069,
    ];
    for (const code of unsafe) {
      expect(escapeControl(String.fromCharCode(code))).toBe(`\\u${code.toString(16).padStart(4, "0")}`);
    }
    const safe = "tab\there, é, 日本, emoji 🙂, backslash \\u001b stays, ‏ RLM, \u200b";
    expect(escapeControl(safe)).toBe(safe);
    expect(escapeControl("a\nb")).toBe("a\\u000ab");
    expect(escapeControl("a\nb\u001b", { keepNewlines: true })).toBe("a\nb\\u001b");
  });

  it("escapeJsonText keeps the JSON value and leaves no raw unsafe character", () => {
    const value = { s: `x${HOSTILE_LINES.join("\n")}`, "k\u202e": 1 };
    const text = escapeJsonText(JSON.stringify(value, null, 2));
    expect(text).not.toMatch(UNSAFE_RAW);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe("renderPlanText with hostile values", () => {
  const plan = hostilePlan();

  it("prints no raw control character or bidi override, and shows each as an escape", () => {
    const text = renderPlanText(plan, { color: false });
    expect(text).not.toMatch(UNSAFE_RAW);
    expect(text).toContain("\\u001b[1A\\u001b[2Kall good");
    expect(text).toContain(
      "bell\\u0007 nul\\u0000 del\\u007f csi\\u009b bidi\\u202eevil\\u202c isolate\\u2066x\\u2069",
    );
    // Everywhere: the address, the prompt diff, an inline value, the kept resource, the warning.
    expect(text).toContain("+ agent.evil</details>@someone#1\\u001b[2K");
    expect(text).toMatch(/^ +\+\\u001b\[1A\\u001b\[2Kall good$/m);
    expect(text).toMatch(/^ {2}= agent\.gone.*\\u001b\[2K/m);
    expect(text).toMatch(/^ {2}! agent\.evil.*\\u202eevil/m);
    expect(text).not.toContain(CANARY);
  });

  it("with colour, the only escape sequences are the colours' own (SGR)", () => {
    const text = renderPlanText(plan, { color: true });
    const ESC = "\u001b";
    const escapes = text.split(ESC).slice(1);
    expect(escapes.length).toBeGreaterThan(0);
    for (const after of escapes) expect(after).toMatch(/^\[[0-9;]*m/);
    expect(text.replaceAll(ESC, "")).not.toMatch(UNSAFE_RAW);
  });

  it("the JSON plan keeps them as JSON escapes and round-trips", () => {
    const json = renderPlanJson(plan);
    // JSON.stringify already escapes C0; DEL, C1 and bidi are escaped by `plan --json` (escapeJsonText).
    expect(json.replace(/\n/g, "")).not.toMatch(C0);
    expect(json).toContain("\\u001b[1A\\u001b[2Kall good");
    const printed = escapeJsonText(json);
    expect(printed).not.toMatch(UNSAFE_RAW);
    expect(JSON.parse(printed)).toEqual(JSON.parse(json));
    expect(printed).not.toContain(CANARY);
  });
});

describe("huge prompts", () => {
  it("two unrelated 20,000-line prompts diff as one exact replace-all hunk, not a minutes-long search", () => {
    // Myers' diff is O(lines x distance): without the edit-length cap this plan took about 8 minutes to render.
    const plan = largePlan(1, 3, 20_000);
    const change = plan.actions.find((a) => a.address === "agent.giant")?.changes.find((c) => c.path === "system");
    const lines = promptDiff(change as never);
    expect(lines[0]).toBe("@@ -1,20000 +1,20000 @@");
    expect(lines.filter((l) => l.startsWith("-"))).toHaveLength(20_000);
    expect(lines.filter((l) => l.startsWith("+"))).toHaveLength(20_000);
    expect(lines).toHaveLength(40_001);
    expect(renderPlanText(plan, { color: false })).toContain("+new line 19999:");
    expect(renderPlanMarkdown(plan).join("")).toContain("+new line 19999:");
  });

  it("a small edit in a long prompt is still a minimal diff", () => {
    const before = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n");
    const after = before.replace("line 2500\n", "line 2500 edited\n");
    expect(promptDiff({ path: "system", before, after })).toEqual([
      "@@ -2498,7 +2498,7 @@",
      " line 2497",
      " line 2498",
      " line 2499",
      "-line 2500",
      "+line 2500 edited",
      " line 2501",
      " line 2502",
      " line 2503",
    ]);
  });
});
