import type { ModelInputs } from '../domain/model-inputs';
import type { SignatureRoles } from '../domain/signature-roles';
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
      /** Predicted label per row: the label output mapped to class labels, or derived from the probabilities. */
      labels: string[];
      /** Row-major `[rows, classCount]`, classes in the order of the model's `classLabels` (float64 for double models). */
      probabilities: Float32Array | Float64Array;
      classCount: number;
    };

export interface LoadedModel {
  /** The outputs the pipeline reads, resolved from the signature. */
  readonly roles: SignatureRoles;
  /** Runs the model over the inputs in batches; there must be one tensor per graph input. */
  predict(inputs: ModelInputs): Promise<Predictions>;
}

/** Inputs and outputs of an ONNX graph as the runtime sees them (-1 or a name = dynamic dimension). */
export type ModelInterface = ModelSignature;
export type { TensorSpec };

/** The class labels a graph names itself, in the order of its probabilities. */
export interface GraphClassLabels {
  labels: string[];
  /** The classes are integers (labels are their decimal text): the ids a label output gives. */
  ids?: number[];
  /** Which node said so, for messages: "ZipMap 'ZipMap'", "LinearClassifier 'LinearClassifier'". */
  from: string;
}

/** An uploaded graph made ready to store and score (see ModelRuntime.prepare). */
export interface PreparedArtifact {
  /** The bytes to store and load: the upload itself, or its rewrite when something was rewritten. */
  bytes: Buffer;
  /** What was rewritten, one sentence each; empty when `bytes` is the upload. */
  rewrites: string[];
  /** The interface of `bytes`. */
  interface: ModelInterface;
  classLabels?: GraphClassLabels;
}

/**
 * Runs ONNX models. `load` keeps one session per version and artifact hash in the process, so
 * every chunk of a run shares it; it fails with SIGNATURE_MISMATCH when the graph does not match
 * the version's signature and UNSUPPORTED_MODEL when an output is not a tensor (ZipMap).
 */
export interface ModelRuntime {
  load(artifact: ModelArtifact): Promise<LoadedModel>;
  /** Reads a graph's interface without caching it (registration checks). */
  inspect(bytes: Buffer): Promise<ModelInterface>;
  /**
   * Registration: rewrites what exporters add that scoring cannot read (a classifier's ZipMap
   * becomes its probabilities tensor) and reads the graph's interface and class labels.
   * UNSUPPORTED_MODEL when the bytes are not a model onnxruntime can load.
   */
  prepare(bytes: Buffer): Promise<PreparedArtifact>;
}
