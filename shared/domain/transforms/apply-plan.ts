import { type FittedStep, type FittedTransforms, trainingOnlyStepTypes } from '../../schemas/transforms';
import { expressionColumns } from './expression';
import { parsedExpression } from './steps';

export interface PlannedStep {
  readonly step: FittedStep;
  /** Position of the step in `fitted.steps` (for messages). */
  readonly index: number;
  /**
   * For a one-hot step whose outputs are distinct and no later step reads or replaces: the matrix column of each
   * of its outputs (-1 when not an output). Such a step writes its ones straight into the matrix
   * instead of into frame columns.
   */
  readonly ones?: Int32Array;
}

export interface ApplyPlan {
  /** The steps applied to production batches (training-only ones left out), in order. */
  readonly steps: readonly PlannedStep[];
  /** Matrix columns, in order, copied from frame columns (every one not written by `ones`). */
  readonly fromFrame: readonly number[];
}

/** Stands for every column name: a step that may read anything rules out writing ones directly. */
const ANY_COLUMN = Symbol('any column');

const plans = new WeakMap<FittedTransforms, ApplyPlan>();

/** How `applyTransforms` runs `fitted`; worked out once per fitted object. */
export function applyPlan(fitted: FittedTransforms): ApplyPlan {
  let plan = plans.get(fitted);
  if (!plan) {
    plan = makePlan(fitted);
    plans.set(fitted, plan);
  }
  return plan;
}

function makePlan(fitted: FittedTransforms): ApplyPlan {
  const applied = fitted.steps
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => !trainingOnlyStepTypes.has(step.type));
  const position = new Map<string, number>();
  const repeated = new Set<string>();
  fitted.output.forEach((name, j) => {
    if (position.has(name)) repeated.add(name);
    else position.set(name, j);
  });

  const direct = new Set<number>();
  const steps = applied.map(({ step, index }, s): PlannedStep => {
    if (step.type !== 'one_hot') return { step, index };
    const later = new Set(applied.slice(s + 1).flatMap(({ step: next }) => columnsOf(next)));
    // Outputs named twice (fitting never does it, a stored artifact may): the frame's last write wins, the direct path would write both.
    const twice = new Set(step.outputs).size !== step.outputs.length;
    if (twice || later.has(ANY_COLUMN) || step.outputs.some((name) => later.has(name) || repeated.has(name)))
      return { step, index };
    const ones = Int32Array.from(step.outputs, (name) => position.get(name) ?? -1);
    ones.forEach((j) => j >= 0 && direct.add(j));
    return { step, index, ones };
  });
  const fromFrame = fitted.output.map((_, j) => j).filter((j) => !direct.has(j));
  return { steps, fromFrame };
}

/** Every column a step reads or writes. */
function columnsOf(step: FittedStep): (string | typeof ANY_COLUMN)[] {
  switch (step.type) {
    case 'impute':
    case 'standardize':
    case 'min_max':
    case 'clip':
    case 'log1p':
    case 'pca':
      return [...step.columns, ...step.outputs];
    case 'one_hot':
    case 'datetime_parts':
      return [step.column, ...step.outputs];
    case 'ordinal':
    case 'bucketize':
      return [step.column, step.output];
    case 'derived':
      return [...step.inputs, ...expressionReads(step), step.output];
    case 'drop_outliers':
      return step.columns;
    case 'filter_rows':
      return step.where.map((c) => c.column);
  }
}

/** The columns an expression reads; ANY_COLUMN when it does not parse (applying it will throw). */
function expressionReads(step: { expression: string }): (string | typeof ANY_COLUMN)[] {
  try {
    return expressionColumns(parsedExpression(step));
  } catch {
    return [ANY_COLUMN];
  }
}
