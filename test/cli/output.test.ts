import { describe, expect, it } from "vitest";
import { wantsColor } from "../../src/cli/output.js";

describe("colour decision (NO_COLOR, FORCE_COLOR, --no-color, terminal)", () => {
  it("colours a terminal, not a pipe, by default", () => {
    expect(wantsColor(true, {}, true)).toBe(true);
    expect(wantsColor(true, {}, false)).toBe(false);
  });
  it("FORCE_COLOR colours a pipe (CI logs); 0 and false turn colour off even on a terminal", () => {
    for (const v of ["1", "2", "3", "true", ""]) expect(wantsColor(true, { FORCE_COLOR: v }, false)).toBe(true);
    for (const v of ["0", "false", "FALSE"]) expect(wantsColor(true, { FORCE_COLOR: v }, true)).toBe(false);
  });
  it("NO_COLOR and --no-color win over FORCE_COLOR; an empty NO_COLOR is unset", () => {
    expect(wantsColor(true, { FORCE_COLOR: "1", NO_COLOR: "1" }, true)).toBe(false);
    expect(wantsColor(false, { FORCE_COLOR: "1" }, true)).toBe(false);
    expect(wantsColor(true, { NO_COLOR: "" }, true)).toBe(true);
  });
});
