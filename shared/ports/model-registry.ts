import type { LifecycleState } from '../schemas/lifecycle';
import type { ModelVersion } from '../schemas/model-version';
import type { PageKey } from '../schemas/paging';
import type { AuditEvent, AuditEventKind, ChampionPointer, ModelRecord } from '../schemas/registry';
import type { PageRequest } from './paging';

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
 * A version document the store holds but cannot read (damaged, or written under rules that have
 * since tightened): its number, from the key the store keeps it under (null when not even that can
 * be told: then the reason names the stored document), and why.
 */
export interface UnreadableVersion {
  version: number | null;
  reason: string;
}

/** A model's versions that read, by number, and apart those that do not. */
export interface VersionListing {
  versions: ModelVersion[];
  unreadable: UnreadableVersion[];
}

/** One page of the models by name: `next` is the key to pass as `after` for the following page, null on the last. */
export interface ModelPage extends ModelListing {
  next: PageKey | null;
}

/** Which ledger entries a listing keeps: of one kind, of one version, at times in [from, to] (ISO 8601, inclusive). */
export interface AuditFilter {
  kind?: AuditEventKind;
  version?: number;
  from?: string;
  to?: string;
}

/** One page of a model's ledger, oldest first: `next` is the key to pass as `after` for the following page, null on the last. */
export interface AuditPage {
  entries: AuditEvent[];
  next: PageKey | null;
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
  /** The model with its stored document's ETag, to guard `replaceModel` with (any write changes it: an update, a registration raising `latestVersion`). */
  readModel(model: string): Promise<Versioned<ModelRecord> | undefined>;
  /** Replaces the model if its stored ETag is still `etag`; CONCURRENCY_CONFLICT otherwise, MODEL_NOT_FOUND when there is none. */
  replaceModel(model: ModelRecord, etag: string): Promise<Versioned<ModelRecord>>;
  /**
   * Every model, by name. A stored model document that no longer reads (damaged, or written under
   * rules that have since tightened) is listed apart with the reason instead of failing the whole
   * listing: one bad document must not stop the monitors and GET /models for every model.
   */
  listModels(): Promise<ModelListing>;
  /**
   * A page of `listModels`: at most `limit` models after the name `after.id` (from the first when
   * absent), by name as text compares (code points; `after.at` is null). A model document that does
   * not read takes its place by its stored name and counts toward `limit`. Reads only the page's
   * documents and one more; every model is listed once across the pages, also when models are
   * created between pages (one created before the page already read is not on the later ones).
   */
  listModelsPage(page: PageRequest): Promise<ModelPage>;

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
  /**
   * The model's versions in `state`, by number: a query on the stored state, so the model's other
   * versions are not read (reconciliation finds the versions still `validating`). A stored version
   * that does not read is listed apart with the reason, by number, when it may be in `state`: its
   * stored state is that one, or cannot be told (not text, or text that is no lifecycle state). So
   * one damaged version does not hide the model's others (the approvals inbox, reconciliation); an
   * outage still fails the call.
   */
  listReadableVersionsInState(model: string, state: LifecycleState): Promise<VersionListing>;
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
  /**
   * A page of the model's ledger entries matching `filter` (applied before paging), in `listAudit`'s
   * order: oldest first by the stored `at` as text compares (time order for times as the app writes
   * them: UTC ISO 8601 with milliseconds; `from`/`to` are compared so too), entries of one `at` by
   * kind, then by id with numbers as numbers. The key is the last entry's `at` and id; entries of
   * one `at` across a page's end are read together (the few one command stamps at one instant).
   * Reads only the page's entries and one more. A stored entry that does not read fails the call
   * naming it, as `listAudit` does; one whose `at` is not text (or longer than
   * MAX_PAGE_TIME_LENGTH) fails the last page.
   */
  listAuditPage(model: string, page: PageRequest & AuditFilter): Promise<AuditPage>;
  /** The version that was champion at `at` (ISO), from the ledger; null if none was. */
  championAt(model: string, at: string): Promise<number | null>;
}
