import { checkDocumentSize } from '../../shared/domain/document-size';
import { errors, formatIssues } from '../../shared/domain/errors';
import { championAtFromEvents, compareLedgerEntries, compareLedgerPageOrder, ledgerTimeBound } from '../../shared/domain/lifecycle';
import type { AuditFilter, AuditPage, ModelListing, ModelPage, ModelRegistry, RegisteredVersion, UnreadableModel, UnreadableVersion, Versioned, VersionListing } from '../../shared/ports/model-registry';
import type { PageRequest } from '../../shared/ports/paging';
import { LIFECYCLE_STATES, type LifecycleState } from '../../shared/schemas/lifecycle';
import { type ModelVersion, modelVersionSchema } from '../../shared/schemas/model-version';
import {
  type AuditEvent,
  type AuditEventKind,
  auditEventSchema,
  type ChampionChangedEvent,
  type ChampionPointer,
  championPointerSchema,
  type ModelRecord,
  modelRecordSchema,
} from '../../shared/schemas/registry';

/**
 * A ModelRegistry in memory with the same semantics as the Cosmos adapter (ETags, write-once ids,
 * ledger order, the stored document size limit), for unit tests of use cases and orchestrations; test/contracts runs the same
 * suite against both. Hooks let a test interfere
 * between a read and a write, or make a ledger append fail.
 */
export class InMemoryModelRegistry implements ModelRegistry {
  readonly models = new Map<string, ModelRecord>();
  readonly versions = new Map<string, Versioned<ModelVersion>>();
  readonly champions = new Map<string, Versioned<ChampionPointer>>();
  readonly ledger = new Map<string, AuditEvent>();
  /** Model documents that no longer read (as a damaged Cosmos document), by name: listed apart, and getModel fails on them. */
  readonly unreadableModels = new Map<string, string>();
  /** Version documents that no longer read, by `model/version`, as stored and why (storeUncheckedVersion). */
  private readonly unreadableVersions = new Map<string, { modelName: string; version: number; raw: unknown; reason: string }>();
  /** Runs before each version replace; a test may change the stored version here. */
  beforeReplaceVersion?: (version: ModelVersion) => void;
  /** Runs before each champion swap; a test may change versions here (another writer meanwhile). */
  beforeSwapChampion?: (pointer: ChampionPointer) => Promise<void>;
  /** Runs before each model replace; a test may change the stored model here (another writer meanwhile). */
  beforeReplaceModel?: (model: ModelRecord) => void | Promise<void>;
  /** Runs before each ledger append; a test may throw here to simulate a crash. */
  beforeAppend?: (event: AuditEvent) => void;
  private etagCounter = 0;
  /** ETags of the model documents, by name; one set in `models` by a test gets one when first read. */
  private readonly modelEtags = new Map<string, { record: ModelRecord; etag: string }>();

  async createModel(model: ModelRecord): Promise<ModelRecord> {
    if (this.models.has(model.modelName)) throw errors.modelAlreadyExists(model.modelName);
    const record = modelRecordSchema.parse(model);
    checkDocumentSize(record, `the model '${model.modelName}'`);
    this.models.set(model.modelName, record);
    return record;
  }

  async readModel(model: string): Promise<Versioned<ModelRecord> | undefined> {
    const record = await this.getModel(model);
    return record && { value: record, etag: this.modelEtag(record) };
  }

  async replaceModel(model: ModelRecord, etag: string): Promise<Versioned<ModelRecord>> {
    await this.beforeReplaceModel?.(model);
    const current = this.models.get(model.modelName);
    if (!current) throw errors.modelNotFound(model.modelName);
    if (this.modelEtag(current) !== etag) throw errors.concurrencyConflict(`model '${model.modelName}' changed since it was read`);
    const record = modelRecordSchema.parse(model);
    checkDocumentSize(record, `the model '${model.modelName}'`);
    this.models.set(model.modelName, record);
    return { value: record, etag: this.modelEtag(record) };
  }

  /** What another writer would do: replace the stored model unconditionally. */
  interfereWithModel(model: ModelRecord): void {
    this.models.set(model.modelName, model);
  }

  /** The stored model's ETag: a new one whenever the stored record is another object (every write stores a new one). */
  private modelEtag(record: ModelRecord): string {
    const known = this.modelEtags.get(record.modelName);
    if (known?.record === record) return known.etag;
    const etag = this.nextEtag();
    this.modelEtags.set(record.modelName, { record, etag });
    return etag;
  }

  async getModel(model: string): Promise<ModelRecord | undefined> {
    const reason = this.unreadableModels.get(model);
    if (reason !== undefined) throw new Error(`stored registry document model of '${model}' is invalid: ${reason}`);
    return this.models.get(model);
  }

  async listModels(): Promise<ModelListing> {
    return { models: [...this.models.values()].sort((a, b) => a.modelName.localeCompare(b.modelName)), unreadable: this.unreadable().sort((a, b) => a.modelName.localeCompare(b.modelName)) };
  }

  async listModelsPage(page: PageRequest): Promise<ModelPage> {
    checkPageSize(page.limit);
    const after = page.after?.id;
    const named = [...[...this.models.values()].map((m) => ({ name: m.modelName, model: m })), ...this.unreadable().map((u) => ({ name: u.modelName, unreadable: u }))]
      .filter((e) => after === undefined || e.name > after)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const onPage = named.slice(0, page.limit);
    const last = onPage.at(-1);
    return {
      models: onPage.flatMap((e) => ('model' in e && e.model ? [e.model] : [])),
      unreadable: onPage.flatMap((e) => ('unreadable' in e && e.unreadable ? [e.unreadable] : [])),
      next: named.length > page.limit && last ? { at: null, id: last.name } : null,
    };
  }

  private unreadable(): UnreadableModel[] {
    return [...this.unreadableModels].map(([modelName, reason]) => ({ modelName, reason: `its stored model document is invalid: ${reason}` }));
  }

  async registerVersion(
    model: string,
    build: (version: number) => ModelVersion,
    options: { registrationKey?: string } = {},
  ): Promise<RegisteredVersion> {
    const record = this.models.get(model);
    if (!record) throw errors.modelNotFound(model);
    // Synchronous from lookup to store: concurrent calls cannot interleave, so a key registers once.
    const registrationKey = options.registrationKey;
    if (registrationKey !== undefined) {
      const earlier = [...this.versions.values()].find((v) => v.value.modelName === model && v.value.registrationKey === registrationKey);
      if (earlier) return { ...earlier, created: false };
    }
    let n = 1;
    while (this.versions.has(key(model, n)) || this.unreadableVersions.has(key(model, n))) n++;
    const built = build(n);
    const version = modelVersionSchema.parse(registrationKey === undefined ? built : { ...built, registrationKey });
    if (version.version !== n || version.modelName !== model) {
      throw new Error(`registerVersion: build(${n}) returned ${version.modelName} v${version.version}`);
    }
    checkDocumentSize(version, `version ${n} of '${model}'`);
    const stored = this.store(version);
    if (record.latestVersion < n) this.models.set(model, { ...record, latestVersion: n });
    return { ...stored, created: true };
  }

  /**
   * Stores `raw` as version `version` of `model` as it is, unchecked (a document damaged in the
   * store, or written under rules that have since tightened): what the fake's own writes refuse.
   * One that does not read fails getVersion and listVersions naming it, as the Cosmos adapter does,
   * and is listed apart by listReadableVersionsInState; one that reads is stored as a version.
   */
  storeUncheckedVersion(model: string, version: number, raw: Record<string, unknown>): void {
    const parsed = modelVersionSchema.safeParse(raw);
    if (parsed.success && parsed.data.modelName === model && parsed.data.version === version) {
      this.unreadableVersions.delete(key(model, version));
      this.store(parsed.data);
      return;
    }
    this.versions.delete(key(model, version));
    const why = parsed.success ? `it says it is version ${parsed.data.version} of '${parsed.data.modelName}'` : formatIssues(parsed.error);
    this.unreadableVersions.set(key(model, version), { modelName: model, version, raw: structuredClone(raw), reason: `its stored version document is invalid: ${why}` });
  }

  private failOnUnreadableVersion(model: string, version?: number): void {
    const found = [...this.unreadableVersions.values()].find((u) => u.modelName === model && (version === undefined || u.version === version));
    if (found) throw new Error(`stored registry document of version ${found.version} of '${model}' is invalid: ${found.reason}`);
  }

  async getVersion(model: string, version: number): Promise<Versioned<ModelVersion> | undefined> {
    this.failOnUnreadableVersion(model, version);
    return this.versions.get(key(model, version));
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    this.failOnUnreadableVersion(model);
    return [...this.versions.values()]
      .map((v) => v.value)
      .filter((v) => v.modelName === model)
      .sort((a, b) => a.version - b.version);
  }

  async listReadableVersionsInState(model: string, state: LifecycleState): Promise<VersionListing> {
    const versions = [...this.versions.values()]
      .map((v) => v.value)
      .filter((v) => v.modelName === model && v.state === state)
      .sort((a, b) => a.version - b.version);
    // As the Cosmos adapter's query: a damaged one whose state is `state` or cannot be told.
    const unreadable: UnreadableVersion[] = [...this.unreadableVersions.values()]
      .filter((u) => u.modelName === model && isOrUntold((u.raw as { state?: unknown } | null)?.state, state))
      .sort((a, b) => a.version - b.version)
      .map((u) => ({ version: u.version, reason: u.reason }));
    return { versions, unreadable };
  }

  async replaceVersion(version: ModelVersion, etag: string): Promise<Versioned<ModelVersion>> {
    this.beforeReplaceVersion?.(version);
    const current = this.versions.get(key(version.modelName, version.version));
    if (!current) throw errors.versionNotFound(version.modelName, version.version);
    if (current.etag !== etag) throw errors.concurrencyConflict('stale version');
    const parsed = modelVersionSchema.parse(version);
    checkDocumentSize(parsed, `version ${version.version} of '${version.modelName}'`);
    return this.store(parsed);
  }

  /** What another writer would do: replace the stored version unconditionally. */
  interfere(version: ModelVersion): void {
    this.store(version);
  }

  async getChampion(model: string): Promise<Versioned<ChampionPointer> | undefined> {
    return this.champions.get(model);
  }

  async swapChampion(pointer: ChampionPointer, etag: string | undefined): Promise<Versioned<ChampionPointer>> {
    await this.beforeSwapChampion?.(pointer);
    const current = this.champions.get(pointer.modelName);
    if (current?.etag !== etag) throw errors.concurrencyConflict('stale champion');
    const stored = { value: championPointerSchema.parse(pointer), etag: this.nextEtag() };
    checkDocumentSize(stored.value, `the champion of '${pointer.modelName}'`);
    this.champions.set(pointer.modelName, stored);
    return stored;
  }

  async appendAudit(event: AuditEvent): Promise<boolean> {
    this.beforeAppend?.(event);
    const id = `${event.modelName}/${event.id}`;
    if (this.ledger.has(id)) return false;
    const entry = auditEventSchema.parse(event);
    checkDocumentSize(entry, `the ledger entry '${event.id}'`);
    this.ledger.set(id, entry);
    return true;
  }

  async hasAudit(model: string, id: string): Promise<boolean> {
    return this.ledger.has(`${model}/${id}`);
  }

  async listAudit(model: string, filter: { kind?: AuditEventKind; version?: number } = {}): Promise<AuditEvent[]> {
    return [...this.ledger.values()]
      .filter(
        (e) =>
          e.modelName === model &&
          (filter.kind === undefined || e.kind === filter.kind) &&
          (filter.version === undefined || ('version' in e && e.version === filter.version)),
      )
      .sort(compareLedgerEntries);
  }

  async listAuditPage(model: string, page: PageRequest & AuditFilter): Promise<AuditPage> {
    checkPageSize(page.limit);
    const [from, to] = [page.from === undefined ? undefined : ledgerTimeBound(page.from), page.to === undefined ? undefined : ledgerTimeBound(page.to)];
    const ordered = (await this.listAudit(model, { ...(page.kind !== undefined ? { kind: page.kind } : {}), ...(page.version !== undefined ? { version: page.version } : {}) }))
      .filter((e) => (from === undefined || e.at >= from) && (to === undefined || e.at <= to))
      .sort(compareLedgerPageOrder);
    const { after } = page;
    // After the key's entry; a key naming no entry at its time continues after that time, as the Cosmos adapter does.
    const keyed = after === undefined ? -1 : ordered.findIndex((e) => e.at === after.at && e.id === after.id);
    const rest = after === undefined ? ordered : keyed >= 0 ? ordered.slice(keyed + 1) : ordered.filter((e) => after.at !== null && e.at > after.at);
    const entries = rest.slice(0, page.limit);
    const last = entries.at(-1);
    return { entries, next: rest.length > page.limit && last ? { at: last.at, id: last.id } : null };
  }

  async championAt(model: string, at: string): Promise<number | null> {
    return championAtFromEvents((await this.listAudit(model, { kind: 'champion_changed' })) as ChampionChangedEvent[], at);
  }

  private store(version: ModelVersion): Versioned<ModelVersion> {
    const stored = { value: version, etag: this.nextEtag() };
    this.versions.set(key(version.modelName, version.version), stored);
    return stored;
  }

  private nextEtag(): string {
    return `"${++this.etagCounter}"`;
  }
}

const key = (model: string, version: number) => `${model}/${version}`;

/** A stored state that is `state`, or cannot be told (not text, or text that is no lifecycle state). */
const isOrUntold = (stored: unknown, state: LifecycleState): boolean =>
  typeof stored !== 'string' || stored === state || !(LIFECYCLE_STATES as readonly string[]).includes(stored);

function checkPageSize(limit: number): void {
  if (!(Number.isInteger(limit) && limit >= 1)) throw errors.validation(`a page holds a whole number of entries, at least 1, not ${limit}`);
}
