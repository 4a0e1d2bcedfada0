import { describe, expect, test } from "vitest";
import { mulberry32 } from "../../src/emulator/faults.js";
import { toJson } from "../../src/providers/comparable.js";
import { randomValue } from "../reconcile/random-json.js";

/** The definition `toJson` replaced: a JSON round trip. */
const reference = (value: unknown) => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

describe("toJson", () => {
  test("is exactly a JSON round trip on random values (key order, -0, NaN, undefined, Dates, __proto__)", () => {
    const next = mulberry32(11);
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(next, 0);
      const copy = toJson(value);
      // Same text, same key order, and the same own properties (a `__proto__` key stays data, not a prototype).
      expect(JSON.stringify(copy)).toBe(JSON.stringify(reference(value)));
      expect(copy).toStrictEqual(reference(value));
    }
  });

  test("matches on edge cases: toJSON with its key, wrappers, -0, top-level values; BigInt throws", () => {
    const withToJson = { toJSON: (key: string) => ({ key, n: -0 }) };
    const cases: unknown[] = [
      { outer: withToJson, list: [withToJson, undefined, () => 1] },
      [new Number(3), new String("s"), new Boolean(false)],
      JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
      -0,
      Number.NaN,
      "text",
      null,
      undefined,
    ];
    for (const value of cases) {
      expect(toJson(value)).toStrictEqual(reference(value));
      expect(Object.is(toJson(value), reference(value)) || typeof reference(value) === "object").toBe(true);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(() => toJson({ n: 1n })).toThrow(TypeError);
  });
});
