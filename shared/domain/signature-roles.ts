import type { ModelTask } from '../schemas/model';
import type { ModelSignature, TensorSpec } from '../schemas/signature';
import { errors } from './errors';

/** Which tensors of a signature the scoring pipeline feeds and reads. */
export type SignatureRoles =
  | { input: string; width: number; kind: 'regression'; prediction: string }
  | { input: string; width: number; kind: 'classification'; label: string; probabilities: string; classCount: number };

const isFixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;

/**
 * Reads the roles off a signature: one float32 `[batch, width]` input with a fixed width; for
 * regression the first float output (`[batch]` or `[batch, 1]`); for classifiers a rank-1 label
 * output (string or integer) and a float32 `[batch, classes]` probabilities output whose width
 * equals the number of class labels. Anything else is SIGNATURE_MISMATCH with the reason.
 */
export function signatureRoles(signature: ModelSignature, task: ModelTask, classLabels: readonly string[] = []): SignatureRoles {
  const fail = (message: string): never => {
    throw errors.signatureMismatch(message);
  };
  if (signature.inputs.length !== 1) fail(`the model must have exactly one input (the feature matrix), it has ${signature.inputs.length}`);
  const input = signature.inputs[0]!;
  const width = input.shape[1];
  if (input.type !== 'float32' || input.shape.length !== 2 || !isFixed(width))
    fail(`the input '${input.name}' must be float32 with shape [batch, width] and a fixed width`);
  const w = width as number;
  const rank1Or2 = (t: TensorSpec) => t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1);
  if (task === 'regression') {
    const out = signature.outputs.find((t) => (t.type === 'float32' || t.type === 'float64') && rank1Or2(t));
    if (!out) return fail('a regression model needs a float output of shape [batch] or [batch, 1]');
    return { input: input.name, width: w, kind: 'regression', prediction: out.name };
  }
  const label = signature.outputs.find((t) => ['string', 'int64', 'int32'].includes(t.type) && rank1Or2(t));
  const probabilities = signature.outputs.find((t) => t.type === 'float32' && t.shape.length === 2 && t !== label);
  if (!label || !probabilities) return fail('a classifier needs a label output [batch] and a float32 probabilities output [batch, classes]');
  const classes = probabilities.shape[1];
  if (isFixed(classes) && classLabels.length > 0 && classes !== classLabels.length)
    fail(`the probabilities output has ${classes} classes, the model definition names ${classLabels.length}`);
  return {
    input: input.name,
    width: w,
    kind: 'classification',
    label: label.name,
    probabilities: probabilities.name,
    classCount: isFixed(classes) ? classes : classLabels.length,
  };
}
