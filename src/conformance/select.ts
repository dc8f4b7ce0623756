/**
 * Case selection patterns: "6.4.1" (exact), "6.4" (that case and everything under it),
 * "6.*" or "9.?.1" (globs: * any run of characters, ? one character).
 */
export function matchesPattern(id: string, pattern: string): boolean {
  const p = pattern.trim();
  if (p === '') return false;
  if (!/[*?]/.test(p)) return id === p || id.startsWith(`${p}.`);
  const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(id);
}

export function selectCases<T extends { id: string }>(all: readonly T[], include?: readonly string[], exclude?: readonly string[]): T[] {
  return all.filter(
    (c) => (!include || include.length === 0 || include.some((p) => matchesPattern(c.id, p))) && !(exclude ?? []).some((p) => matchesPattern(c.id, p)),
  );
}

/** Accepts repeated flags and comma-separated lists alike. */
export function splitPatterns(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** Natural ordering of dotted ids: 6.10 after 6.9. */
export function compareIds(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
