import type { ModelTask } from '../schemas/model';
import type { ModelSignature, TensorSpec } from '../schemas/signature';
import { errors } from './errors';

/**
 * Which outputs of a graph the scoring pipeline reads (the inputs are planned by
 * `planModelInputs`, which also knows the transforms and the feature schema).
 *
 * Classifiers: `probabilities` is `[batch, classes]` (`classes` layout) or, for a binary model
 * exported with one sigmoid output, the probability of the second class (`positive` layout,
 * `[batch]` or `[batch, 1]`). Without a label output the label is derived: the arg-max class, or
 * the second class when its probability is above 0.5.
 */
export type SignatureRoles =
  | { kind: 'regression'; prediction: string }
  | {
      kind: 'classification';
      label?: string;
      probabilities: string;
      layout: 'classes' | 'positive';
      classCount: number;
    };

const isFixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;
const isFloat = (t: TensorSpec) => t.type === 'float32' || t.type === 'float64';
/** `[batch]` or `[batch, 1]`: one value per row. */
export const oneValuePerRow = (t: TensorSpec) =>
  t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1);

/**
 * Reads the output roles off a signature: for regression the first float output of shape
 * `[batch]` or `[batch, 1]`; for classifiers an optional label output (string or integer, one per
 * row) and a float probabilities output whose width equals the number of class labels. Anything
 * else is SIGNATURE_MISMATCH with the reason.
 */
export function signatureRoles(
  signature: ModelSignature,
  task: ModelTask,
  classLabels: readonly string[] = [],
): SignatureRoles {
  const fail = (message: string): never => {
    throw errors.signatureMismatch(message);
  };
  // Rows are scored in batches of any size: an output with a fixed first dimension would only
  // answer that many rows, and every batch of another size would fail at scoring time.
  const perBatch = (t: TensorSpec): TensorSpec => {
    if (isFixed(t.shape[0]))
      fail(`the output '${t.name}' has a fixed batch size ${t.shape[0]}: export it with a dynamic first dimension (None / dynamic_axes)`);
    return t;
  };
  if (task === 'regression') {
    const out = signature.outputs.find((t) => isFloat(t) && oneValuePerRow(t));
    if (!out) return fail('a regression model needs a float output of shape [batch] or [batch, 1]');
    return { kind: 'regression', prediction: perBatch(out).name };
  }
  const label = signature.outputs.find(
    (t) => ['string', 'int64', 'int32'].includes(t.type) && oneValuePerRow(t),
  );
  const byClass = signature.outputs.find((t) => isFloat(t) && t.shape.length === 2 && t.shape[1] !== 1);
  const positive =
    task === 'binary' && !byClass
      ? signature.outputs.find((t) => isFloat(t) && oneValuePerRow(t))
      : undefined;
  const probabilities = byClass ?? positive;
  if (!probabilities)
    return fail(
      "a classifier needs a float probabilities output [batch, classes] (a binary one may give the second class's probability as [batch] or [batch, 1]); " +
        `the outputs are ${signature.outputs.map((t) => `'${t.name}' ${t.type} [${t.shape.join(', ')}]`).join(', ')}`,
    );
  perBatch(probabilities);
  if (label) perBatch(label);
  const classes = byClass ? byClass.shape[1] : 2;
  if (isFixed(classes) && classLabels.length > 0 && classes !== classLabels.length)
    fail(`the probabilities output has ${classes} classes, the model definition names ${classLabels.length}`);
  return {
    kind: 'classification',
    ...(label ? { label: label.name } : {}),
    probabilities: probabilities.name,
    layout: byClass ? 'classes' : 'positive',
    classCount: isFixed(classes) ? classes : classLabels.length,
  };
}

const showShape = (shape: readonly (number | string)[]) =>
  `[${shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 'N')).join(', ')}]`;
const dynamic = (d: number | string | undefined) => typeof d !== 'number' || d < 0;

function checkTensor(expected: TensorSpec, actual: TensorSpec | undefined, role: string): string[] {
  if (!actual) return [`${role} '${expected.name}' is not in the graph`];
  const problems: string[] = [];
  if (actual.type !== expected.type)
    problems.push(`${role} '${expected.name}' is ${actual.type}, the signature says ${expected.type}`);
  const fits =
    actual.shape.length === expected.shape.length &&
    expected.shape.every((d, i) => dynamic(d) || dynamic(actual.shape[i]) || actual.shape[i] === d);
  // onnxruntime reports an empty shape when the graph leaves it undeclared: nothing to compare.
  if (actual.shape.length > 0 && !fits)
    problems.push(
      `${role} '${expected.name}' has shape ${showShape(actual.shape)}, the signature says ${showShape(expected.shape)}`,
    );
  return problems;
}

/** Compares a graph's interface with the version's signature; every problem is listed in one SIGNATURE_MISMATCH. */
export function checkSignature(graph: ModelSignature, signature: ModelSignature): void {
  const problems: string[] = [];
  for (const spec of signature.inputs)
    problems.push(
      ...checkTensor(
        spec,
        graph.inputs.find((t) => t.name === spec.name),
        'input',
      ),
    );
  for (const spec of signature.outputs)
    problems.push(
      ...checkTensor(
        spec,
        graph.outputs.find((t) => t.name === spec.name),
        'output',
      ),
    );
  for (const t of graph.inputs)
    if (!signature.inputs.some((s) => s.name === t.name))
      problems.push(`the graph input '${t.name}' is not in the signature`);
  if (problems.length > 0)
    throw errors.signatureMismatch(`the ONNX graph does not match the signature: ${problems.join('; ')}`, {
      problems,
    });
}

const INTEGER_TEXT = /^-?\d+$/;

/**
 * How an integer label output maps to class labels. When every class label is an integer's text
 * (`["0", "1"]`, `["1", "2", "3"]`: labels read from the graph, or classes that are numbers) a
 * label means the class of that name; otherwise it is the class's position (`0` -> the first
 * label), the convention of models trained on encoded targets (XGBoost, LightGBM, PyTorch).
 * Returns undefined for a value no class answers to.
 */
export function integerLabelMapper(classLabels: readonly string[]): (value: number) => string | undefined {
  if (classLabels.every((l) => INTEGER_TEXT.test(l))) {
    const byValue = new Map(classLabels.map((l) => [Number(l), l]));
    return (value) => byValue.get(value);
  }
  return (value) => classLabels[value];
}

/**
 * Checks the class ids a graph declares for its integer labels (a ZipMap's `classlabels_int64s`,
 * a classifier node's `classlabels_ints`) against the model's class labels under the mapping of
 * `integerLabelMapper`: the ids must map, in order, onto the labels, or the probabilities and
 * predicted labels would name different classes. SIGNATURE_MISMATCH says what to write instead.
 */
export function checkClassIds(ids: readonly number[], classLabels: readonly string[], from: string): void {
  const map = integerLabelMapper(classLabels);
  const mapped = ids.map(map);
  if (ids.length === classLabels.length && mapped.every((label, i) => label === classLabels[i])) return;
  throw errors.signatureMismatch(
    `the graph's classes are ${JSON.stringify(ids)} (${from}); the model definition's classLabels ${JSON.stringify(classLabels)} ` +
      `do not name them in order: give ${JSON.stringify(ids.map(String))}, or leave classLabels out to take them from the graph` +
      (ids.every((id, i) => id === i) ? ', or names in the order of the classes 0, 1, ...' : ''),
    { classIds: [...ids], classLabels: [...classLabels] },
  );
}
