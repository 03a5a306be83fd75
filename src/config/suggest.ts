// "Did you mean" suggestions for misspelled config keys and values.

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("prot" -> "port" is 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/** Case, '-' and '_' differences are the commonest slips (dataDir, max-depth, INFO). */
function normalize(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** The known name closest to `input`, or undefined when none is close enough to be a plausible typo. */
export function suggest(input: string, known: readonly string[]): string | undefined {
  if (known.length === 0 || input.length === 0) return undefined;
  const norm = normalize(input);
  const exact = known.find((k) => normalize(k) === norm);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const dist = editDistance(norm, normalize(k));
    if (dist < bestDistance) {
      bestDistance = dist;
      best = k;
    }
  }
  if (best !== undefined) {
    const limit = Math.max(1, Math.floor(normalize(best).length / 3));
    if (bestDistance <= limit) return best;
  }
  // A truncated or extended name ("log" for "logging", "mechanism" for "mechanisms").
  if (norm.length >= 3) {
    const partial = known.find((k) => {
      const nk = normalize(k);
      return nk.startsWith(norm) || norm.startsWith(nk);
    });
    if (partial !== undefined) return partial;
  }
  return undefined;
}
