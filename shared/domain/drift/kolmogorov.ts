/**
 * Kolmogorov-Smirnov distributions, following the method selection of scipy (Simard and
 * L'Ecuyer 2011 for the one-sample two-sided distribution `kstwo`, exact lattice-path counting
 * for the two-sample statistic), so p-values agree with `scipy.stats.ks_2samp(method='auto')`.
 */
import { logGamma } from './special';

const SCALE_EXP = 128;
const SCALE_UP = 2 ** SCALE_EXP;
const SCALE_DOWN = 2 ** -SCALE_EXP;

function ldexp(value: number, exponent: number): number {
  let v = value;
  let e = exponent;
  while (e > 1000) {
    v *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    v *= 2 ** -1000;
    e += 1000;
  }
  return v * 2 ** e;
}

const clip01 = (p: number): number => Math.min(1, Math.max(0, p));

/** One-sided P(D+_n >= x) by the Smirnov / Birnbaum-Tingey sum, evaluated in log space. */
export function smirnovSf(n: number, x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  const last = Math.floor(n * (1 - x));
  let logChoose = 0;
  let sum = 0;
  for (let v = 0; v <= last; v++) {
    const at = x + v / n;
    const rest = 1 - at;
    if (rest > 0) {
      sum += Math.exp(logChoose + (v - 1) * Math.log(at) + (n - v) * Math.log(rest));
    } else if (n === v) {
      sum += Math.exp(logChoose + (v - 1) * Math.log(at));
    }
    logChoose += Math.log(n - v) - Math.log(v + 1);
  }
  return clip01(x * sum);
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!;
      if (aik === 0) continue;
      const rowB = k * m;
      const rowOut = i * m;
      for (let j = 0; j < m; j++) out[rowOut + j]! += aik * b[rowB + j]!;
    }
  }
  return out;
}

/** Durbin's matrix method as arranged by Marsaglia, Tsang and Wang: exact P(D_n <= d). */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const inverseFactorial = new Float64Array(m + 1);
  inverseFactorial[0] = 1;
  for (let j = 1; j <= m; j++) inverseFactorial[j] = inverseFactorial[j - 1]! / j;
  let matrix: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const order = i - j + 1;
      if (order >= 0) matrix[i * m + j] = inverseFactorial[order]!;
    }
  }
  for (let i = 0; i < m; i++) {
    matrix[i * m] = (1 - h ** (i + 1)) * inverseFactorial[i + 1]!;
    matrix[(m - 1) * m + (m - 1 - i)] = (1 - h ** (i + 1)) * inverseFactorial[i + 1]!;
  }
  matrix[(m - 1) * m] = (1 - 2 * h ** m + Math.max(2 * h - 1, 0) ** m) * inverseFactorial[m]!;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let powerExp = 0;
  let matrixExp = 0;
  const centre = (k - 1) * m + (k - 1);
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) {
      power = multiply(power, matrix, m);
      powerExp += matrixExp;
    }
    matrix = multiply(matrix, matrix, m);
    matrixExp *= 2;
    if (Math.abs(matrix[centre]!) > SCALE_UP) {
      for (let i = 0; i < matrix.length; i++) matrix[i]! *= SCALE_DOWN;
      matrixExp += SCALE_EXP;
    }
  }
  let p = power[centre]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < SCALE_DOWN) {
      p *= SCALE_UP;
      powerExp -= SCALE_EXP;
    }
  }
  return clip01(ldexp(p, powerExp));
}

/** Pelz-Good asymptotic expansion of P(D_n <= x), accurate for large n. */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -(Math.PI * Math.PI) / 8 / z2;
  if (qlog < -708) return 0;
  const pi2 = Math.PI * Math.PI;
  const pi4 = pi2 * pi2;
  const pi6 = pi4 * pi2;
  const maxk = Math.ceil((16 * z) / Math.PI);
  const sums = [0, 0, 0, 0];
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const weight = Math.exp(qlog * m2);
    sums[0]! += weight;
    sums[1]! += weight * (-z2 + (pi2 * m2) / 4);
    sums[2]! += weight * (6 * z6 + 2 * z4 + ((2 * z4 - 5 * z2) * pi2 * m2) / 4 + (pi4 * (1 - 2 * z2) * m2 * m2) / 16);
    sums[3]! +=
      weight *
      (-30 * z6 -
        90 * z4 * z4 +
        (pi2 * (135 * z4 - 96 * z6) * m2) / 4 +
        (pi4 * (-60 * z2 + 212 * z4) * m2 * m2) / 16 +
        (pi6 * (5 - 30 * z2) * m2 * m2 * m2) / 64);
  }
  const root2pi = Math.sqrt(2 * Math.PI);
  const k0 = (root2pi * sums[0]!) / z;
  const k1 = (root2pi * sums[1]!) / (6 * z4);
  let k2 = (root2pi * sums[2]!) / (72 * z6 * z);
  let k3 = (root2pi * sums[3]!) / (6480 * z6 * z4);
  const qlog2 = -pi2 / 2 / z2;
  let extra2 = 0;
  let extra3 = 0;
  for (let k = maxk; k >= 1; k--) {
    const k2sq = k * k;
    const w = Math.exp(qlog2 * k2sq);
    extra2 += k2sq * w;
    extra3 += (3 * z2 - pi2 * k2sq) * k2sq * w;
  }
  k2 += (extra2 * pi2 * root2pi) / (-36 * z2 * z);
  k3 += (extra3 * pi2 * root2pi) / (216 * z6);
  return k0 + k1 / Math.sqrt(n) + k2 / n + k3 / (n * Math.sqrt(n));
}

/** P(D_n >= x) for the two-sided one-sample statistic (scipy.stats.kstwo.sf). */
export function kolmogorovSf(x: number, n: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const cdf =
      n <= 140
        ? Array.from({ length: n }, (_, i) => ((i + 1) / n) * (2 * t - 1)).reduce((a, b) => a * b, 1)
        : Math.exp(logGamma(n + 1) - n * Math.log(n) + n * Math.log(2 * t - 1));
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    // scipy uses Pomeranz between 0.754693 and 4; Durbin's method is exact there too.
    if (nxSquared <= 4) return clip01(1 - durbinCdf(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  const cdf = n <= 100000 && n * x ** 1.5 <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x);
  return clip01(1 - cdf);
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/**
 * Exact P(D >= d) for the two-sample statistic with sizes n1, n2: the share of monotone lattice
 * paths from (0,0) to (m,n) that touch |x/m - y/n| >= d. The recursion carries that share
 * directly (not the count of paths inside), so tiny and near-one p-values keep their precision.
 * Returns NaN when the observed statistic cannot be placed on the lattice.
 */
export function exactTwoSampleSf(n1: number, n2: number, d: number): number {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = Math.round(d * lcm);
  if (h === 0) return 1;
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = m / g;
  const ng = n / g;
  // share[j]: probability that a uniformly random path to (i, j) has touched the boundary.
  const share = new Float64Array(n + 1).fill(1);
  let maxj = Math.min(Math.ceil(h / mg) - 1, n);
  for (let j = 0; j <= maxj; j++) share[j] = 0;
  for (let i = 1; i <= m; i++) {
    const minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    maxj = Math.min(Math.ceil((ng * i + h) / mg) - 1, n);
    if (minj > n) return 1;
    let below = minj === 0 ? 0 : 1;
    for (let j = minj; j <= maxj; j++) {
      const value = j === 0 ? share[0]! : (i * share[j]! + j * below) / (i + j);
      share[j] = value;
      below = value;
    }
    if (minj > 0) share[minj - 1] = 1;
  }
  return clip01(share[n]!);
}
