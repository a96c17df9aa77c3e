import type { LinearCoefficients } from '../domain/training/least-squares';
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
 * the class labels (no ZipMap). The same coefficients always give the same bytes.
 */
export interface ModelExporter {
  linearRegression(model: LinearCoefficients): ExportedModel;
  logisticRegression(model: LinearCoefficients, classLabels: readonly [string, string]): ExportedModel;
}
