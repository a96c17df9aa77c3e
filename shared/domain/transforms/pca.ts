/**
 * PCA by eigen-decomposition of the covariance matrix (cyclic Jacobi rotations: exact to machine
 * precision for the few tens of columns a spec lists). The eigenvectors of X'X are the right
 * singular vectors of the centred X, i.e. what numpy's SVD returns as rows of Vt.
 */

export interface PcaFit {
  mean: number[];
  /** nComponents rows of p loadings; the largest-magnitude loading of each row is positive. */
  components: number[][];
  /** Eigenvalue / (n - 1), as scikit-learn's explained_variance_. */
  explainedVariance: number[];
  rowsUsed: number;
}

/** Fits PCA on rows where every column is present. */
export function fitPca(columns: readonly Float64Array[], nComponents: number): PcaFit {
  const p = columns.length;
  const n = columns[0]?.length ?? 0;
  const complete = new Uint8Array(n).fill(1);
  for (const col of columns) for (let i = 0; i < n; i += 1) if (col[i] !== col[i]) complete[i] = 0;
  let rows = 0;
  for (let i = 0; i < n; i += 1) rows += complete[i]!;

  const mean = columns.map((col) => {
    let s = 0;
    for (let i = 0; i < n; i += 1) if (complete[i]) s += col[i]!;
    return s / rows;
  });
  const centred = columns.map((col, j) => {
    const out = new Float64Array(rows);
    let k = 0;
    for (let i = 0; i < n; i += 1) if (complete[i]) out[k++] = col[i]! - mean[j]!;
    return out;
  });
  const cov: number[][] = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let a = 0; a < p; a += 1) {
    for (let b = a; b < p; b += 1) {
      const x = centred[a]!;
      const y = centred[b]!;
      let s = 0;
      for (let i = 0; i < rows; i += 1) s += x[i]! * y[i]!;
      cov[a]![b] = s;
      cov[b]![a] = s;
    }
  }
  const { values, vectors } = jacobiEigen(cov);
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const components = order
    .slice(0, nComponents)
    .map((k) => applySignConvention(vectors.map((row) => row[k]!)));
  const explainedVariance = order
    .slice(0, nComponents)
    .map((k) => Math.max(values[k]!, 0) / Math.max(rows - 1, 1));
  return { mean, components, explainedVariance, rowsUsed: rows };
}

/** Flips a component so that its largest-magnitude loading (first one on ties) is positive. */
export function applySignConvention(component: number[]): number[] {
  let at = 0;
  for (let j = 1; j < component.length; j += 1)
    if (Math.abs(component[j]!) > Math.abs(component[at]!)) at = j;
  return component[at]! < 0 ? component.map((v) => -v) : component;
}

/**
 * Eigenvalues and eigenvectors (as columns of `vectors`) of a symmetric matrix by cyclic Jacobi
 * rotations.
 */
export function jacobiEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const p = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = Array.from({ length: p }, (_, i) =>
    Array.from({ length: p }, (__, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 100; sweep += 1) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < p; i += 1) {
      diag += a[i]![i]! * a[i]![i]!;
      for (let j = i + 1; j < p; j += 1) off += a[i]![j]! * a[i]![j]!;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let i = 0; i < p - 1; i += 1) {
      for (let j = i + 1; j < p; j += 1) {
        const aij = a[i]![j]!;
        if (aij === 0) continue;
        const theta = (a[j]![j]! - a[i]![i]!) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k += 1) {
          const aki = a[k]![i]!;
          const akj = a[k]![j]!;
          a[k]![i] = c * aki - s * akj;
          a[k]![j] = s * aki + c * akj;
        }
        for (let k = 0; k < p; k += 1) {
          const aik = a[i]![k]!;
          const ajk = a[j]![k]!;
          a[i]![k] = c * aik - s * ajk;
          a[j]![k] = s * aik + c * ajk;
        }
        for (let k = 0; k < p; k += 1) {
          const vki = v[k]![i]!;
          const vkj = v[k]![j]!;
          v[k]![i] = c * vki - s * vkj;
          v[k]![j] = s * vki + c * vkj;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}

/**
 * Writes into `outs[k]` (zeroed) the projection of rows 0..n-1 on `components[k]`: the sum over
 * columns j, in order, of components[k][j] * (x_j - mean[j]).
 */
export function projectOnComponents(
  inputs: readonly Float64Array[],
  mean: readonly number[],
  components: readonly (readonly number[])[],
  outs: readonly Float64Array[],
  n: number,
): void {
  let k = 0;
  for (; k + 2 <= components.length; k += 2)
    projectOnTwo(inputs, mean, components[k]!, components[k + 1]!, outs[k]!, outs[k + 1]!, n);
  if (k < components.length) projectOnOne(inputs, mean, components[k]!, outs[k]!, n);
}

/**
 * Two components per pass over the rows, four columns at a time: each loaded input value serves
 * two sums, and each sum is loaded and stored once per four columns. Additions still happen one
 * column after the other, so results are bit-identical to a column-at-a-time loop.
 */
function projectOnTwo(
  inputs: readonly Float64Array[],
  mean: readonly number[],
  a: readonly number[],
  b: readonly number[],
  outA: Float64Array,
  outB: Float64Array,
  n: number,
): void {
  let j = 0;
  for (; j + 4 <= inputs.length; j += 4) {
    const x0 = inputs[j]!;
    const x1 = inputs[j + 1]!;
    const x2 = inputs[j + 2]!;
    const x3 = inputs[j + 3]!;
    const m0 = mean[j]!;
    const m1 = mean[j + 1]!;
    const m2 = mean[j + 2]!;
    const m3 = mean[j + 3]!;
    const a0 = a[j]!;
    const a1 = a[j + 1]!;
    const a2 = a[j + 2]!;
    const a3 = a[j + 3]!;
    const b0 = b[j]!;
    const b1 = b[j + 1]!;
    const b2 = b[j + 2]!;
    const b3 = b[j + 3]!;
    for (let i = 0; i < n; i += 1) {
      const d0 = x0[i]! - m0;
      const d1 = x1[i]! - m1;
      const d2 = x2[i]! - m2;
      const d3 = x3[i]! - m3;
      outA[i] = outA[i]! + a0 * d0 + a1 * d1 + a2 * d2 + a3 * d3;
      outB[i] = outB[i]! + b0 * d0 + b1 * d1 + b2 * d2 + b3 * d3;
    }
  }
  for (; j < inputs.length; j += 1) {
    const x = inputs[j]!;
    const m = mean[j]!;
    const aj = a[j]!;
    const bj = b[j]!;
    for (let i = 0; i < n; i += 1) {
      const d = x[i]! - m;
      outA[i] = outA[i]! + aj * d;
      outB[i] = outB[i]! + bj * d;
    }
  }
}

/** projectOnTwo for one component. */
function projectOnOne(
  inputs: readonly Float64Array[],
  mean: readonly number[],
  component: readonly number[],
  out: Float64Array,
  n: number,
): void {
  let j = 0;
  for (; j + 4 <= inputs.length; j += 4) {
    const x0 = inputs[j]!;
    const x1 = inputs[j + 1]!;
    const x2 = inputs[j + 2]!;
    const x3 = inputs[j + 3]!;
    const c0 = component[j]!;
    const c1 = component[j + 1]!;
    const c2 = component[j + 2]!;
    const c3 = component[j + 3]!;
    const m0 = mean[j]!;
    const m1 = mean[j + 1]!;
    const m2 = mean[j + 2]!;
    const m3 = mean[j + 3]!;
    for (let i = 0; i < n; i += 1)
      out[i] = out[i]! + c0 * (x0[i]! - m0) + c1 * (x1[i]! - m1) + c2 * (x2[i]! - m2) + c3 * (x3[i]! - m3);
  }
  for (; j < inputs.length; j += 1) {
    const x = inputs[j]!;
    const c = component[j]!;
    const m = mean[j]!;
    for (let i = 0; i < n; i += 1) out[i] = out[i]! + c * (x[i]! - m);
  }
}
