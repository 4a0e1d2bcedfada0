import { describe, expect, test } from "vitest";
import { mulberry32 } from "../../src/emulator/faults.js";
import { canonicalJson, canonicalReference } from "../../src/reconcile/canonical.js";
import { digest } from "../../src/reconcile/plan.js";
import { randomValue } from "./random-json.js";

describe("canonicalJson (the text plan digests hash)", () => {
  test("is byte for byte the original definition on random values with keys that sort differently by locale and by code point", () => {
    const next = mulberry32(10);
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(next, 0);
      expect(canonicalJson(value)).toBe(canonicalReference(value));
    }
  });

  test("matches on edge cases: toJSON with its key, undefined and functions, top-level values, key order", () => {
    const withToJson = { toJSON: (key: string) => ({ key, z: 1, a: 2 }) };
    const cases: unknown[] = [
      { b: 1, a: { d: [undefined, () => 1, { y: 1, x: 2 }], c: undefined } },
      { outer: withToJson, list: [withToJson] },
      { "2": "two", "10": "ten", "1": "one", b: 0, a: 0 },
      [new Date(86400000), Symbol("s")],
      "text",
      42,
      null,
    ];
    for (const value of cases) expect(canonicalJson(value)).toBe(canonicalReference(value));
    expect(canonicalJson(undefined)).toBe(canonicalReference(undefined));
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  test("a digest does not depend on key order, and the digest of a known value is unchanged (saved plans stay valid)", () => {
    expect(digest({ b: [1, { d: 1, c: 2 }], a: "x" })).toBe(digest({ a: "x", b: [1, { c: 2, d: 1 }] }));
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: "x" })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
    // The digest the definition before this module gave (sha256 of the text above, first 32 hex digits).
    expect(digest({ b: [1, { d: 1, c: 2 }], a: "x" })).toBe("9df6720e995f95a9e407bf04ed307e03");
  });
});
