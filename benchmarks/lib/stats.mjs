/** Small numeric helpers shared by the sections and the report. */

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function max(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
}

/** a / b, or null when either side is missing or b is zero. */
export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** Round to `digits` significant-ish decimals for JSON, keeping it readable. */
export function round(x, digits = 3) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x ?? null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Two-sided 95% Student t quantiles for 1..30 degrees of freedom; past 30, the normal's. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * The geometric mean of paired per-round ratios and its 95% confidence interval (Student t
 * on the logs): how far from it the true ratio may lie, given the rounds' scatter. Each
 * round runs both servers back to back, so what drifts between rounds (other tenants of
 * the VM) cancels in its ratio. Null with fewer than two usable ratios.
 */
export function ratioInterval(ratios) {
  const logs = ratios.filter((x) => typeof x === 'number' && Number.isFinite(x) && x > 0).map(Math.log);
  const n = logs.length;
  if (n < 2) return null;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = ((T95[n - 2] ?? 1.96) * sd) / Math.sqrt(n);
  return { mean: round(Math.exp(mean), 4), low: round(Math.exp(mean - half), 4), high: round(Math.exp(mean + half), 4), rounds: n };
}
