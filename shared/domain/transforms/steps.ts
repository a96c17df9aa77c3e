import type { FittedStep, TransformStep } from '../../schemas/transforms';
import { DomainError, errors } from '../errors';
import { datetimePart } from './datetime';
import { evaluateExpression, expressionColumns, type ExpressionNode, parseExpression } from './expression';
import { Frame, type RejectRow } from './frame';
import { oneHotCodes } from './one-hot';
import { fitPca, projectOnComponents } from './pca';
import {
  distinctCategories,
  meanStd,
  medianSorted,
  minMax,
  modeCategorical,
  modeNumeric,
  quantileSorted,
  sortedPresent,
} from './stats';

/** "step 3 (standardize)": how messages name a step (1-based). */
export const stepLabel = (index: number, type: string): string => `step ${index + 1} (${type})`;

const invalid = (message: string, details?: Record<string, unknown>): DomainError =>
  errors.validation(message, details);

const noData = (where: string, column: string): DomainError =>
  errors.insufficientData(
    `${where}: column '${column}' has no non-missing training value to fit on`,
    {
      column,
    },
  );

const formatValue = (v: number): string => (Number.isNaN(v) ? 'NaN' : String(v));

/** Fits one step on the frame as it is before that step. */
export function fitStep(step: TransformStep, frame: Frame, index: number): FittedStep {
  const where = stepLabel(index, step.type);
  switch (step.type) {
    case 'impute': {
      const fill = step.columns.map((name): number | string => {
        const column = frame.get(name, where);
        if (step.strategy === 'constant') {
          const value = step.fillValue!;
          const wanted = column.kind === 'numeric' ? 'number' : 'string';
          if (typeof value !== wanted)
            throw invalid(`${where}: fillValue for ${column.kind} column '${name}' must be a ${wanted}`);
          return value;
        }
        if (column.kind === 'categorical') {
          if (step.strategy !== 'most_frequent')
            throw invalid(
              `${where}: strategy '${step.strategy}' needs a numeric column, '${name}' is categorical`,
            );
          const mode = modeCategorical(column.values);
          if (mode === null) throw noData(where, name);
          return mode;
        }
        const value =
          step.strategy === 'mean'
            ? meanStd(column.values).mean
            : step.strategy === 'median'
              ? medianSorted(sortedPresent(column.values))
              : modeNumeric(column.values);
        if (Number.isNaN(value)) throw noData(where, name);
        return value;
      });
      return {
        type: 'impute',
        columns: step.columns,
        outputs: step.outputs ?? step.columns,
        strategy: step.strategy,
        fill,
      };
    }
    case 'standardize': {
      const stats = step.columns.map((name) => {
        const s = meanStd(frame.numeric(name, where));
        if (s.count === 0) throw noData(where, name);
        return s;
      });
      return {
        type: 'standardize',
        columns: step.columns,
        outputs: step.outputs ?? step.columns,
        mean: stats.map((s) => s.mean),
        // scikit-learn's StandardScaler: a zero variance column is centred, not scaled.
        scale: stats.map((s) => (s.std > 0 ? s.std : 1)),
      };
    }
    case 'min_max': {
      const stats = step.columns.map((name) => {
        const s = minMax(frame.numeric(name, where));
        if (s.count === 0) throw noData(where, name);
        return s;
      });
      return {
        type: 'min_max',
        columns: step.columns,
        outputs: step.outputs ?? step.columns,
        min: stats.map((s) => s.min),
        scale: stats.map((s) => (s.max > s.min ? s.max - s.min : 1)),
      };
    }
    case 'clip': {
      const lower: (number | null)[] = [];
      const upper: (number | null)[] = [];
      for (const name of step.columns) {
        const values = frame.numeric(name, where);
        let sorted: Float64Array | undefined;
        const bound = (b: (typeof step)['lower']): number | null => {
          if (b === undefined) return null;
          if (typeof b === 'number') return b;
          sorted ??= sortedPresent(values);
          if (sorted.length === 0) throw noData(where, name);
          return quantileSorted(sorted, b.quantile);
        };
        const lo = bound(step.lower);
        const hi = bound(step.upper);
        if (lo !== null && hi !== null && lo > hi)
          throw invalid(`${where}: fitted lower bound ${lo} is above upper bound ${hi} for '${name}'`);
        lower.push(lo);
        upper.push(hi);
      }
      return { type: 'clip', columns: step.columns, outputs: step.outputs ?? step.columns, lower, upper };
    }
    case 'log1p':
      step.columns.forEach((name) => frame.numeric(name, where));
      return { type: 'log1p', columns: step.columns, outputs: step.outputs ?? step.columns };
    case 'one_hot': {
      const values = frame.categorical(step.column, where);
      const categories = step.categories ?? distinctCategories(values);
      if (categories.length === 0) throw noData(where, step.column);
      const prefix = step.prefix ?? `${step.column}_`;
      const outputs = categories.map((c) => `${prefix}${c}`);
      if (step.unseen === 'other') outputs.push(`${prefix}__other__`);
      if (new Set(outputs).size !== outputs.length)
        throw invalid(`${where}: one-hot output names collide (categories ${JSON.stringify(categories)})`);
      return { type: 'one_hot', column: step.column, categories, unseen: step.unseen, outputs };
    }
    case 'ordinal': {
      const values = frame.categorical(step.column, where);
      const categories = step.categories ?? distinctCategories(values);
      if (categories.length === 0) throw noData(where, step.column);
      return {
        type: 'ordinal',
        column: step.column,
        output: step.output ?? step.column,
        categories,
        unseen: step.unseen,
        unseenValue: step.unseenValue,
      };
    }
    case 'bucketize': {
      const values = frame.numeric(step.column, where);
      let edges = step.edges;
      if (!edges) {
        const sorted = sortedPresent(values);
        if (sorted.length === 0) throw noData(where, step.column);
        const q = step.quantiles!;
        const fitted: number[] = [];
        for (let k = 1; k < q; k += 1) {
          const e = quantileSorted(sorted, k / q);
          if (fitted.length === 0 || e > fitted[fitted.length - 1]!) fitted.push(e);
        }
        edges = fitted;
      }
      if (edges.length === 0) throw noData(where, step.column);
      return { type: 'bucketize', column: step.column, output: step.output ?? step.column, edges };
    }
    case 'pca': {
      const columns = step.columns.map((name) => frame.numeric(name, where));
      const fit = fitPca(columns, step.nComponents);
      if (fit.rowsUsed < 2)
        throw errors.insufficientData(
          `${where}: PCA needs at least 2 rows with every column present`,
        );
      const outputs =
        step.outputs ?? Array.from({ length: step.nComponents }, (_, k) => `${step.prefix}${k}`);
      return {
        type: 'pca',
        columns: step.columns,
        outputs,
        mean: fit.mean,
        components: fit.components,
        explainedVariance: fit.explainedVariance,
      };
    }
    case 'datetime_parts': {
      frame.numeric(step.column, where);
      const prefix = step.prefix ?? `${step.column}_`;
      return {
        type: 'datetime_parts',
        column: step.column,
        parts: step.parts,
        outputs: step.parts.map((p) => `${prefix}${p}`),
      };
    }
    case 'derived': {
      const inputs = expressionColumns(parseExpression(step.expression));
      inputs.forEach((name) => frame.numeric(name, where));
      return { type: 'derived', output: step.output, expression: step.expression, inputs };
    }
    case 'drop_outliers': {
      const threshold = step.threshold ?? (step.method === 'iqr' ? 1.5 : 3);
      const lower: number[] = [];
      const upper: number[] = [];
      for (const name of step.columns) {
        const values = frame.numeric(name, where);
        if (step.method === 'iqr') {
          const sorted = sortedPresent(values);
          if (sorted.length === 0) throw noData(where, name);
          const q1 = quantileSorted(sorted, 0.25);
          const q3 = quantileSorted(sorted, 0.75);
          lower.push(q1 - threshold * (q3 - q1));
          upper.push(q3 + threshold * (q3 - q1));
        } else {
          const s = meanStd(values);
          if (s.count === 0) throw noData(where, name);
          lower.push(s.mean - threshold * s.std);
          upper.push(s.mean + threshold * s.std);
        }
      }
      return {
        type: 'drop_outliers',
        columns: step.columns,
        method: step.method,
        lower,
        upper,
        rowsDropped: 0,
      };
    }
    case 'filter_rows':
      step.where.forEach((c) => {
        const kind = frame.get(c.column, where).kind;
        if (kind === 'categorical' && 'value' in c)
          throw invalid(
            `${where}: '${c.op}' compares numbers, '${c.column}' is categorical (use in / not_in)`,
          );
        if ('values' in c) {
          const wanted = kind === 'numeric' ? 'number' : 'string';
          if (c.values.some((v) => typeof v !== wanted))
            throw invalid(`${where}: values for ${kind} column '${c.column}' must all be ${wanted}s`);
        }
      });
      return { type: 'filter_rows', where: step.where, rowsDropped: 0 };
  }
}

/** Rows a training-only step keeps (1) or drops (0). */
export function trainingRowMask(step: FittedStep, frame: Frame, index: number): Uint8Array {
  const where = stepLabel(index, step.type);
  const keep = new Uint8Array(frame.rows).fill(1);
  if (step.type === 'drop_outliers') {
    step.columns.forEach((name, j) => {
      const values = frame.numeric(name, where);
      const lo = step.lower[j]!;
      const hi = step.upper[j]!;
      for (let i = 0; i < frame.rows; i += 1) {
        const v = values[i]!;
        if (v < lo || v > hi) keep[i] = 0;
      }
    });
  } else if (step.type === 'filter_rows') {
    for (const c of step.where) {
      const column = frame.get(c.column, where);
      for (let i = 0; i < frame.rows; i += 1) {
        if (keep[i] && !satisfies(c, column.kind === 'numeric' ? column.values[i]! : column.values[i]!))
          keep[i] = 0;
      }
    }
  }
  return keep;
}

type RowCondition = Extract<FittedStep, { type: 'filter_rows' }>['where'][number];

function satisfies(c: RowCondition, v: number | string | null): boolean {
  const missing = v === null || (typeof v === 'number' && Number.isNaN(v));
  if (c.op === 'missing') return missing;
  if (c.op === 'not_missing') return !missing;
  if (missing) return false;
  switch (c.op) {
    case 'in':
      return c.values.includes(v);
    case 'not_in':
      return !c.values.includes(v);
    default: {
      if (typeof v !== 'number') return false;
      switch (c.op) {
        case 'lt':
          return v < c.value;
        case 'le':
          return v <= c.value;
        case 'gt':
          return v > c.value;
        case 'ge':
          return v >= c.value;
        case 'eq':
          return v === c.value;
        case 'ne':
          return v !== c.value;
      }
    }
  }
}

// Applying runs block by block: parse each derived expression once, not once per block.
const parsed = new WeakMap<object, ExpressionNode>();
export function parsedExpression(step: { expression: string }): ExpressionNode {
  let ast = parsed.get(step);
  if (!ast) {
    ast = parseExpression(step.expression);
    parsed.set(step, ast);
  }
  return ast;
}

/** Applies one fitted (non training-only) step to the frame; rows it cannot handle go to `reject`. */
export function applyStep(step: FittedStep, frame: Frame, reject: RejectRow, index: number): void {
  const where = stepLabel(index, step.type);
  const n = frame.rows;
  switch (step.type) {
    case 'impute':
      step.columns.forEach((name, j) => {
        const column = frame.get(name, where);
        const fill = step.fill[j]!;
        const output = step.outputs[j]!;
        if (column.kind === 'numeric') {
          if (typeof fill !== 'number')
            throw invalid(`${where}: fill value for numeric '${name}' is not a number`);
          // Copy, then patch the few missing values: cheaper than a store per value.
          const out = frame.target(column.values, name, output);
          for (let i = 0; i < n; i += 1) if (out[i] !== out[i]) out[i] = fill;
          frame.setNumeric(output, out);
        } else {
          if (typeof fill !== 'string')
            throw invalid(`${where}: fill value for categorical '${name}' is not a string`);
          frame.setCategorical(
            output,
            column.values.map((v) => v ?? fill),
          );
        }
      });
      return;
    case 'standardize':
    case 'min_max':
      step.columns.forEach((name, j) => {
        const source = frame.numeric(name, where);
        const output = step.outputs[j]!;
        const out = frame.output(source, name, output);
        const shift = step.type === 'standardize' ? step.mean[j]! : step.min[j]!;
        const scale = step.scale[j]!;
        // In place, one array to index is cheaper than two (the loop is that short).
        if (out === source) for (let i = 0; i < n; i += 1) out[i] = (out[i]! - shift) / scale;
        else for (let i = 0; i < n; i += 1) out[i] = (source[i]! - shift) / scale;
        frame.setNumeric(output, out);
      });
      return;
    case 'clip':
      step.columns.forEach((name, j) => {
        const source = frame.numeric(name, where);
        const output = step.outputs[j]!;
        // Copy, then patch the values out of bounds: cheaper than a store per value.
        const out = frame.target(source, name, output);
        const lo = step.lower[j] ?? -Infinity;
        const hi = step.upper[j] ?? Infinity;
        for (let i = 0; i < n; i += 1) {
          const v = out[i]!;
          if (v < lo) out[i] = lo;
          else if (v > hi) out[i] = hi;
        }
        frame.setNumeric(output, out);
      });
      return;
    case 'log1p':
      step.columns.forEach((name, j) => {
        const source = frame.numeric(name, where);
        const output = step.outputs[j]!;
        const out = frame.output(source, name, output);
        for (let i = 0; i < n; i += 1) {
          const v = source[i]!;
          const r = Math.log1p(v);
          out[i] = r;
          if (!Number.isFinite(r) && v === v)
            reject(i, `${where}: log1p(${formatValue(v)}) of '${name}' is not finite`);
        }
        frame.setNumeric(output, out);
      });
      return;
    case 'one_hot': {
      const codes = new Int32Array(n);
      oneHotCodes(step, frame.categorical(step.column, where), n, where, reject, codes);
      const outs = step.outputs.map(() => frame.alloc(true));
      for (let i = 0; i < n; i += 1) {
        const k = codes[i]!;
        if (k >= 0) outs[k]![i] = 1;
      }
      step.outputs.forEach((name, k) => frame.setNumeric(name, outs[k]!));
      return;
    }
    case 'ordinal': {
      const values = frame.categorical(step.column, where);
      const index = new Map(step.categories.map((c, k) => [c, k]));
      const out = frame.alloc();
      for (let i = 0; i < n; i += 1) {
        const v = values[i]!;
        if (v === null) {
          out[i] = NaN;
          reject(i, `${where}: missing value in categorical '${step.column}' (no imputer)`);
          continue;
        }
        const k = index.get(v);
        if (k !== undefined) out[i] = k;
        else if (step.unseen === 'value') out[i] = step.unseenValue;
        else {
          out[i] = NaN;
          reject(i, `${where}: unseen category ${JSON.stringify(v)} in '${step.column}'`);
        }
      }
      frame.setNumeric(step.output, out);
      return;
    }
    case 'bucketize': {
      const source = frame.numeric(step.column, where);
      const out = frame.output(source, step.column, step.output);
      const edges = Float64Array.from(step.edges);
      for (let i = 0; i < n; i += 1) {
        const v = source[i]!;
        if (v !== v) {
          out[i] = v;
          continue;
        }
        // Number of edges <= v: binary search for the first edge > v.
        let lo = 0;
        let hi = edges.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (edges[mid]! <= v) lo = mid + 1;
          else hi = mid;
        }
        out[i] = lo;
      }
      frame.setNumeric(step.output, out);
      return;
    }
    case 'pca': {
      const inputs = step.columns.map((name) => frame.numeric(name, where));
      const outs = step.outputs.map(() => frame.alloc(true));
      projectOnComponents(inputs, step.mean, step.components, outs, n);
      step.outputs.forEach((name, k) => frame.setNumeric(name, outs[k]!));
      return;
    }
    case 'datetime_parts': {
      const source = frame.numeric(step.column, where);
      const outs = step.parts.map((part) => {
        const out = frame.alloc();
        datetimePart(part, source, out);
        return out;
      });
      step.outputs.forEach((name, k) => frame.setNumeric(name, outs[k]!));
      return;
    }
    case 'derived': {
      const out = evaluateExpression(parsedExpression(step), (name) => frame.numeric(name, where), n, {
        alloc: () => frame.alloc(),
        free: (values) => frame.recycle(values),
      });
      const inputs = step.inputs.map((name) => frame.numeric(name, where));
      for (let i = 0; i < n; i += 1) {
        const v = out[i]!;
        if (Number.isFinite(v)) continue;
        // A missing input makes a missing output, reported with the output; anything else is the
        // expression's own doing (division by zero, log of a negative number, overflow).
        if (inputs.every((x) => x[i] === x[i]))
          reject(i, `${where}: '${step.output}' = ${step.expression} is ${formatValue(v)} for this row`);
      }
      frame.setNumeric(step.output, out);
      return;
    }
    case 'drop_outliers':
    case 'filter_rows':
      return;
  }
}
