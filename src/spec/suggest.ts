/**
 * Edit distance between two strings: insertions, deletions, substitutions and swaps of two adjacent characters each
 * cost 1 (optimal string alignment), so `Agnet` is one edit from `Agent`.
 */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `input` when it is plausibly a typo of it (case-insensitive edit distance of at most a
 * third of the input's length, and at least 1), for "did you mean" hints. Ties go to the first candidate in sorted
 * order, so the hint is deterministic.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(input.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of [...candidates].sort()) {
    const d = distance(input.toLowerCase(), candidate.toLowerCase());
    if (d <= limit && d < bestDistance && candidate !== input) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `' (did you mean "x"?)'` when a candidate is close to `input`, otherwise `""`. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const match = closest(input, candidates);
  return match === undefined ? "" : ` (did you mean "${match}"?)`;
}
