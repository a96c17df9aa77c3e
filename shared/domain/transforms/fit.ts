import {
  type FittedStep,
  type FittedTransforms,
  fittedTransformsSchema,
  type InputKind,
  type TransformSpecInput,
} from '../../schemas/transforms';
import { errors } from '../errors';
import type { RowBatch } from '../tabular';
import { batchColumn, Frame } from './frame';
import { parseTransformSpec, transformSpecHash } from './hash';
import { stepLabel, stepModule } from './step-modules';

/**
 * Fits a transform spec on a training batch, step by step as a scikit-learn Pipeline does: each
 * step is fitted on the output of the steps before it. Training-only steps (drop_outliers,
 * filter_rows) remove rows for the steps after them; rows the fitted steps would reject at
 * inference (unseen categories under `error`, a missing category, a non-finite log1p/derived)
 * are left out of the fitting of later steps too.
 *
 * Throws DomainError VALIDATION_ERROR when the spec does not fit the batch (an unknown column, a
 * categorical column where a numeric one is needed, an output column that no step produces) and
 * INSUFFICIENT_DATA when a column has nothing to fit on.
 */
export function fitTransforms(specInput: TransformSpecInput, batch: RowBatch): FittedTransforms {
  return fitTransformsWithRows(specInput, batch).fitted;
}

/**
 * fitTransforms, also answering which batch rows the fitting kept (ascending): those the
 * training-only steps left and no fitted step rejects. A model fitted after the transforms trains
 * on these rows, as a scikit-learn Pipeline's last step sees what its samplers kept.
 */
export function fitTransformsWithRows(specInput: TransformSpecInput, batch: RowBatch): { fitted: FittedTransforms; rows: Int32Array } {
  const spec = parseTransformSpec(specInput);
  const inputs: { name: string; kind: InputKind }[] = [];
  const produced = new Set<string>();
  let frame = new Frame(batch.rowCount);
  // Batch row of each frame row, once rows have been removed (null while none has).
  let batchRows: Int32Array | null = null;
  const removeRows = (keep: Uint8Array): void => {
    const kept: number[] = [];
    for (let i = 0; i < frame.rows; i += 1) if (keep[i]) kept.push(batchRows ? batchRows[i]! : i);
    batchRows = Int32Array.from(kept);
    frame = frame.compact(keep);
  };

  const ensureInput = (name: string): void => {
    if (produced.has(name) || inputs.some((i) => i.name === name)) return;
    const numeric = batchColumn(batch.numeric, name);
    const categorical = batchColumn(batch.categorical, name);
    const rows = batchRows;
    if (numeric) {
      inputs.push({ name, kind: 'numeric' });
      if (rows)
        frame.setNumeric(
          name,
          Float64Array.from(rows, (r) => numeric[r]!),
        );
      else frame.borrow(name, { kind: 'numeric', values: numeric });
    } else if (categorical) {
      inputs.push({ name, kind: 'categorical' });
      frame.borrow(name, {
        kind: 'categorical',
        values: rows ? Array.from(rows, (r) => categorical[r]!) : categorical,
      });
    }
  };

  const steps: FittedStep[] = [];
  spec.steps.forEach((step, index) => {
    const module = stepModule(step.type);
    const where = stepLabel(index, step.type);
    module.reads(step).forEach(ensureInput);
    const fitted = module.fit(step, frame, where) as FittedStep;
    if (module.keepRows) {
      const keep = module.keepRows(fitted, frame, where);
      const before = frame.rows;
      removeRows(keep);
      steps.push({ ...fitted, rowsDropped: before - frame.rows } as FittedStep);
      return;
    }
    const rejected = new Uint8Array(frame.rows);
    let anyRejected = false;
    module.apply?.(
      fitted,
      frame,
      (row) => {
        rejected[row] = 1;
        anyRejected = true;
      },
      where,
    );
    if (anyRejected) removeRows(rejected.map((r) => 1 - r));
    module.writes(fitted).forEach((name) => produced.add(name));
    steps.push(fitted);
  });

  spec.output.forEach(ensureInput);
  spec.output.forEach((name) => frame.numeric(name, 'output'));
  if (frame.rows === 0)
    throw errors.insufficientData(
      'no training row is left after the training-only steps and rejections',
    );

  const fitted = {
    specVersion: spec.specVersion,
    specHash: transformSpecHash(spec),
    inputs,
    steps,
    output: spec.output,
    trainingRows: batch.rowCount,
    fittedRows: frame.rows,
  };
  // Infinite training values would make infinite parameters, which JSON cannot carry.
  const checked = fittedTransformsSchema.safeParse(fitted);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const at =
      issue.path[0] === 'steps'
        ? `${stepLabel(Number(issue.path[1]), String(steps[Number(issue.path[1])]?.type))}: `
        : '';
    throw errors.validation(
      `${at}fitted parameters are invalid at ${issue.path.join('.')} (${issue.message}); does the training data hold infinite values?`,
    );
  }
  // removeRows assigns batchRows in a closure, which control-flow narrowing does not see.
  const kept = (batchRows as Int32Array | null) ?? Int32Array.from({ length: batch.rowCount }, (_, i) => i);
  return { fitted: checked.data, rows: kept };
}
