// Small numeric helpers for summarising rounds.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** 3 significant figures with k/M/G suffixes, so columns stay narrow. */
export function human(x) {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const abs = Math.abs(x);
  const fmt = (v, s) => `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${s}`;
  if (abs >= 1e9) return fmt(x / 1e9, 'G');
  if (abs >= 1e6) return fmt(x / 1e6, 'M');
  if (abs >= 1e4) return fmt(x / 1e3, 'k');
  return fmt(x, '');
}

export function ratio(value, reference) {
  if (value === undefined || reference === undefined || !(reference > 0)) return undefined;
  return value / reference;
}

export const ratioText = (r) => (r === undefined ? '–' : `${r.toFixed(2)}×`);
export const percentText = (p) => (p === undefined || !Number.isFinite(p) ? '–' : `${p.toFixed(0)}%`);
