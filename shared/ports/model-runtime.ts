import type { SignatureRoles } from '../domain/signature-roles';
import type { FeatureMatrix } from '../domain/tabular';
import type { ModelTask } from '../schemas/model';
import type { ModelSignature, TensorSpec } from '../schemas/signature';

/** The artifact of one model version, as the runtime needs it. */
export interface ModelArtifact {
  model: string;
  version: number;
  /** sha256 of the ONNX bytes, recorded at registration: part of the cache key, checked on load. */
  sha256: string;
  signature: ModelSignature;
  task: ModelTask;
  /** Class labels in the order of the probabilities output (classifiers). */
  classLabels?: readonly string[];
  /** Fetches the ONNX bytes; called only when the version is not already loaded. */
  fetch(): Promise<Buffer>;
}

/** Model outputs for a batch of rows, in row order. */
export type Predictions =
  | { kind: 'regression'; rows: number; values: Float64Array }
  | {
      kind: 'classification';
      rows: number;
      /** Predicted label per row (the model's label output, as text). */
      labels: string[];
      /** Row-major `[rows, classCount]`, classes in the order of the model's `classLabels`. */
      probabilities: Float32Array;
      classCount: number;
    };

export interface LoadedModel {
  /** The tensors the pipeline feeds and reads, resolved from the signature. */
  readonly roles: SignatureRoles;
  /** Runs the model over the matrix in batches; the matrix width must equal the input width. */
  predict(matrix: FeatureMatrix): Promise<Predictions>;
}

/** Inputs and outputs of an ONNX graph as the runtime sees them (-1 or a name = dynamic dimension). */
export type ModelInterface = ModelSignature;
export type { TensorSpec };

/**
 * Runs ONNX models. `load` keeps one session per version and artifact hash in the process, so
 * every chunk of a run shares it; it fails with SIGNATURE_MISMATCH when the graph does not match
 * the version's signature and UNSUPPORTED_MODEL when an output is not a tensor (ZipMap).
 */
export interface ModelRuntime {
  load(artifact: ModelArtifact): Promise<LoadedModel>;
  /** Reads a graph's interface without caching it (registration checks). */
  inspect(bytes: Buffer): Promise<ModelInterface>;
}
