import type { ActualsRecord, InferenceRun, MonitoringWindow, MonitorState, RetrainingRecord } from '../schemas/monitoring';
import type { Versioned } from './model-registry';

/** What `create` did: stored the document, or found one with that id (returned as stored). */
export interface Created<T> extends Versioned<T> {
  created: boolean;
}

/**
 * One kind of document of a model, by id, with ETag concurrency. Documents are validated with
 * their schema before they are written and after they are read; one larger than the store holds
 * (MAX_DOCUMENT_BYTES, shared/domain/document-size.ts) is PAYLOAD_TOO_LARGE and nothing is written.
 */
export interface DocumentCollection<T> {
  get(model: string, id: string): Promise<Versioned<T> | undefined>;
  /** Stores a new document; when the id is taken, the stored one comes back with `created: false`. */
  create(model: string, id: string, doc: T): Promise<Created<T>>;
  /** Replaces the document if its stored ETag is still `etag`; CONCURRENCY_CONFLICT otherwise, NOT_FOUND if gone. */
  replace(model: string, id: string, doc: T, etag: string): Promise<Versioned<T>>;
  /** Every document of this kind of the model, by id. */
  list(model: string): Promise<T[]>;
}

/**
 * The production loop's records (Cosmos `runs`, pk `/modelName`): inference runs by run id,
 * actuals files by actuals id, monitoring windows by window id, retraining requests by request
 * id, and one monitor state per model (id `monitor`).
 */
export interface RunStore {
  runs: DocumentCollection<InferenceRun>;
  actuals: DocumentCollection<ActualsRecord>;
  windows: DocumentCollection<MonitoringWindow>;
  retraining: DocumentCollection<RetrainingRecord>;
  monitors: DocumentCollection<MonitorState>;
}
