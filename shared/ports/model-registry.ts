import type { ModelVersion } from '../schemas/model-version';
import type { AuditEvent, AuditEventKind, ChampionPointer, ModelRecord } from '../schemas/registry';

/** A stored value with the ETag to guard its next write with. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

/** What registerVersion returns: the version, and whether this call stored it. */
export interface RegisteredVersion extends Versioned<ModelVersion> {
  created: boolean;
}

/** A model document the store holds but cannot read, and why. */
export interface UnreadableModel {
  modelName: string;
  reason: string;
}

export interface ModelListing {
  models: ModelRecord[];
  unreadable: UnreadableModel[];
}

/**
 * The model registry store: models, versions, the champion pointer and the audit ledger. Writes
 * guarded by an ETag fail with CONCURRENCY_CONFLICT when the stored document has changed; the
 * use cases (shared/usecases/registry.ts) re-read, re-check the lifecycle rules and retry. A
 * document larger than the store holds (MAX_DOCUMENT_BYTES, shared/domain/document-size.ts) is
 * PAYLOAD_TOO_LARGE and nothing is written; a keyed registration refused so leaves its key free.
 */
export interface ModelRegistry {
  /** Creates a model; MODEL_ALREADY_EXISTS if the name is taken. */
  createModel(model: ModelRecord): Promise<ModelRecord>;
  getModel(model: string): Promise<ModelRecord | undefined>;
  /**
   * Every model, by name. A stored model document that no longer reads (damaged, or written under
   * rules that have since tightened) is listed apart with the reason instead of failing the whole
   * listing: one bad document must not stop the monitors and GET /models for every model.
   */
  listModels(): Promise<ModelListing>;

  /**
   * Stores a new version with the next free number, race-free: concurrent calls get distinct,
   * consecutive numbers. `build` makes the document for a candidate number (it may be called
   * again with a higher number when another registration took it). The model must exist.
   *
   * With a `registrationKey` it is idempotent: repeated and concurrent calls with the same key
   * register one version, and every call returns it (`created` is true for the one that stored it).
   */
  registerVersion(
    model: string,
    build: (version: number) => ModelVersion,
    options?: { registrationKey?: string },
  ): Promise<RegisteredVersion>;
  getVersion(model: string, version: number): Promise<Versioned<ModelVersion> | undefined>;
  /** Every version of a model, by number. */
  listVersions(model: string): Promise<ModelVersion[]>;
  /** Replaces a version if its stored ETag is still `etag`; CONCURRENCY_CONFLICT otherwise. */
  replaceVersion(version: ModelVersion, etag: string): Promise<Versioned<ModelVersion>>;

  getChampion(model: string): Promise<Versioned<ChampionPointer> | undefined>;
  /**
   * Moves the champion pointer if it is unchanged since it was read (`etag`), or creates it if
   * `etag` is undefined and no pointer exists yet. CONCURRENCY_CONFLICT when another swap won.
   */
  swapChampion(pointer: ChampionPointer, etag: string | undefined): Promise<Versioned<ChampionPointer>>;

  /** Appends to the ledger. Ids are deterministic: appending an existing id is a no-op (false). */
  appendAudit(event: AuditEvent): Promise<boolean>;
  /** Whether the ledger holds the entry with this id. */
  hasAudit(model: string, id: string): Promise<boolean>;
  /** Ledger entries of a model, oldest first, optionally of one kind or one version. */
  listAudit(model: string, filter?: { kind?: AuditEventKind; version?: number }): Promise<AuditEvent[]>;
  /** The version that was champion at `at` (ISO), from the ledger; null if none was. */
  championAt(model: string, at: string): Promise<number | null>;
}
