import type { LinearCoefficients } from '../domain/training/least-squares';
import type { MultinomialCoefficients } from '../domain/training/multinomial';
import type { ModelSignature } from '../schemas/signature';

/** An ONNX model built by the backend, with the signature its registration declares. */
export interface ExportedModel {
  bytes: Buffer;
  signature: ModelSignature;
  /** The default-domain opset the graph imports. */
  opset: number;
}

/**
 * Writes the built-in trainer's models as ONNX graphs the scoring runtime runs: one float32
 * `[N, width]` input; regression `y = X w + b` as MatMul + Add (output `[N, 1]`); binary logistic
 * regression with a string label output `[N]` and float32 probabilities `[N, 2]` in the order of
 * the class labels (no ZipMap); multinomial logistic regression likewise, with `[N, classes]`
 * softmax probabilities. The same coefficients always give the same bytes.
 */
export interface ModelExporter {
  linearRegression(model: LinearCoefficients): ExportedModel;
  logisticRegression(model: LinearCoefficients, classLabels: readonly [string, string]): ExportedModel;
  /** One weight row and intercept per class of `classLabels`, in that order. */
  multinomialLogisticRegression(model: MultinomialCoefficients, classLabels: readonly string[]): ExportedModel;
}
