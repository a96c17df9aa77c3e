import type { FittedStep, FittedTransforms } from '../../schemas/transforms';
import { ANY_COLUMN, stepModule } from './step-modules';

export interface PlannedStep {
  readonly step: FittedStep;
  readonly module: ReturnType<typeof stepModule>;
  /** Position of the step in `fitted.steps` (for messages). */
  readonly index: number;
  /**
   * For an indicator step (one-hot) whose outputs are distinct and no later step reads or
   * replaces: the matrix column of each of its outputs (-1 when not an output). Such a step
   * writes its ones straight into the matrix instead of into frame columns.
   */
  readonly ones?: Int32Array;
}

export interface ApplyPlan {
  /** The steps applied to production batches (training-only ones left out), in order. */
  readonly steps: readonly PlannedStep[];
  /** Matrix columns, in order, copied from frame columns (every one not written by `ones`). */
  readonly fromFrame: readonly number[];
}

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
    .map((step, index) => ({ step, index, module: stepModule(step.type) }))
    .filter(({ module }) => module.apply !== undefined);
  const position = new Map<string, number>();
  const repeated = new Set<string>();
  fitted.output.forEach((name, j) => {
    if (position.has(name)) repeated.add(name);
    else position.set(name, j);
  });

  const direct = new Set<number>();
  const steps = applied.map((planned, s): PlannedStep => {
    const { step, module } = planned;
    if (!module.indicatorCodes) return planned;
    const outputs = module.writes(step);
    const later = new Set(applied.slice(s + 1).flatMap((next) => next.module.touches(next.step)));
    // Outputs named twice (fitting never does it, a stored artifact may): the frame's last write wins, the direct path would write both.
    const twice = new Set(outputs).size !== outputs.length;
    if (twice || later.has(ANY_COLUMN) || outputs.some((name) => later.has(name) || repeated.has(name))) return planned;
    const ones = Int32Array.from(outputs, (name) => position.get(name) ?? -1);
    ones.forEach((j) => j >= 0 && direct.add(j));
    return { ...planned, ones };
  });
  const fromFrame = fitted.output.map((_, j) => j).filter((j) => !direct.has(j));
  return { steps, fromFrame };
}
