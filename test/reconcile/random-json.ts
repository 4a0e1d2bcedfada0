/** Random values for property tests (canonical.test.ts, comparable.test.ts). */

/** Keys that order differently by code point and by `localeCompare`, and integer-like keys. */
const KEYS = [
  "a",
  "B",
  "b",
  "A",
  "_x",
  "-x",
  ":x",
  "x_y",
  "xy",
  "x-y",
  "10",
  "9",
  "0",
  "01",
  "4294967295",
  "é",
  "e",
  "Z",
  "mcp_toolset:a",
  "mcp_toolset:B",
  "__proto__",
  "",
];

/**
 * A random JSON-like value (depth at most 4) for property tests of JSON writers and copiers: every leaf JSON treats
 * specially (NaN, Infinity, -0, undefined, a Date, a line separator), and keys that sort differently by locale and by
 * code point, integer-like keys and `__proto__`.
 */
export function randomValue(next: () => number, depth: number): unknown {
  const r = next();
  if (depth > 3 || r < 0.3) {
    const leaves = [
      null,
      true,
      false,
      0,
      -1.5,
      1e21,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      "",
      's\u2028"\\',
      "é",
      undefined,
      new Date(0),
    ];
    return leaves[Math.floor(next() * leaves.length)];
  }
  if (r < 0.55) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--) {
    const key = KEYS[Math.floor(next() * KEYS.length)] as string;
    Object.defineProperty(object, key, {
      value: randomValue(next, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}
