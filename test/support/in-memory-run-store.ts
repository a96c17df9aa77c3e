import { checkDocumentSize } from '../../shared/domain/document-size';
import { errors, formatIssues, parseOrThrow } from '../../shared/domain/errors';
import { CLOSED_REQUEST_STATES } from '../../shared/domain/policies/retraining-gate';
import type { Versioned } from '../../shared/ports/model-registry';
import {
  type ActualsCollection,
  type Created,
  type DocumentCollection,
  type DocumentListing,
  type DocumentPage,
  everyDocument,
  type IdRange,
  MAX_PAGE_TIME_LENGTH,
  type ModelNamePage,
  type PageRequest,
  type RetrainingCollection,
  type RunCollection,
  type RunStore,
  type UnreadableDocument,
  unreadableDocumentError,
  type WindowCollection,
} from '../../shared/ports/run-store';
import {
  type ActualsRecord,
  actualsRecordSchema,
  type InferenceRun,
  inferenceRunSchema,
  type MonitoringWindow,
  monitoringWindowSchema,
  monitorStateSchema,
  type RetrainingRecord,
  retrainingRecordSchema,
  type RunState,
  runStateSchema,
} from '../../shared/schemas/monitoring';
import { entriesWithinBytes, jsonBytes, MAX_PAGE_BYTES } from '../../shared/schemas/paging';

/** A DocumentCollection in memory with the Cosmos adapter's semantics (ETags, create-or-found, the stored document size limit), for unit tests. */
export class InMemoryCollection<T extends { modelName: string }> implements DocumentCollection<T> {
  /** As stored: each is read through the schema, as the Cosmos adapter reads its items. */
  readonly docs = new Map<string, Versioned<unknown>>();
  /** Documents the listings and queries gave back, readable or not: what Cosmos would have read and sent for them. */
  listed = 0;
  private etags = 0;

  constructor(
    private readonly what: string,
    private readonly schema: { parse(input: unknown): T } & Parameters<typeof parseOrThrow>[0],
  ) {}

  private check(model: string, id: string, doc: T): T {
    const parsed = parseOrThrow(this.schema, doc, `${this.what} document`) as T;
    if (parsed.modelName !== model) throw errors.validation(`the ${this.what} document is for '${parsed.modelName}', not '${model}'`);
    checkDocumentSize(parsed, `the ${this.what} document '${id}' of '${model}'`);
    return parsed;
  }

  private store(model: string, id: string, value: T): Versioned<T> {
    const stored = { value: structuredClone(value), etag: `"${++this.etags}"` };
    this.docs.set(`${model}/${id}`, stored);
    return { value: structuredClone(value), etag: stored.etag };
  }

  /**
   * Stores `raw` as it is, unchecked: a document damaged in the store, or written under rules that
   * have since tightened (the Cosmos half of the contract writes such an item through the SDK).
   */
  storeUnchecked(model: string, id: string, raw: unknown): void {
    this.docs.set(`${model}/${id}`, { value: structuredClone(raw), etag: `"${++this.etags}"` });
  }

  private read(id: string, raw: unknown): { value: T } | UnreadableDocument {
    const parsed = this.schema.safeParse(raw);
    if (parsed.success) return { value: structuredClone(parsed.data as T) };
    return { id, reason: `its stored ${this.what} document is invalid: ${formatIssues(parsed.error)}`.slice(0, 2000) };
  }

  async get(model: string, id: string): Promise<Versioned<T> | undefined> {
    const found = this.docs.get(`${model}/${id}`);
    if (!found) return undefined;
    const read = this.read(id, found.value);
    if (!('value' in read)) throw unreadableDocumentError(this.what, model, read);
    return { value: read.value, etag: found.etag };
  }

  async create(model: string, id: string, doc: T): Promise<Created<T>> {
    const value = this.check(model, id, doc);
    const existing = await this.get(model, id);
    if (existing) return { ...existing, created: false };
    return { ...this.store(model, id, value), created: true };
  }

  async replace(model: string, id: string, doc: T, etag: string): Promise<Versioned<T>> {
    const value = this.check(model, id, doc);
    const current = this.docs.get(`${model}/${id}`);
    if (!current) throw errors.notFound(`${this.what} '${id}' of '${model}' does not exist`);
    if (current.etag !== etag) throw errors.concurrencyConflict(`${this.what} '${id}' of '${model}' changed since it was read`);
    return this.store(model, id, value);
  }

  async list(model: string): Promise<T[]> {
    return everyDocument(this.what, model, await this.listReadable(model));
  }

  async listReadable(model: string): Promise<DocumentListing<T>> {
    return this.listWhere(model, () => true);
  }

  async listReadableInRange(model: string, range: IdRange): Promise<DocumentListing<T>> {
    const { from, before, limit } = range;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw errors.validation(`a listing limit is a whole number, not ${limit}`);
    return this.listWhere(model, (id) => (from === undefined || id >= from) && (before === undefined || id < before), limit);
  }

  /** The model's documents whose id and stored value pass `keep`, by id (the first `limit`), as the Cosmos adapter's query reads them. */
  protected async listWhere(model: string, keep: (id: string, raw: unknown) => boolean, limit = Infinity): Promise<DocumentListing<T>> {
    const listing: DocumentListing<T> = { documents: [], unreadable: [] };
    const entries = [...this.docs.entries()]
      .map(([key, stored]) => [key.slice(model.length + 1), stored.value, key] as const)
      .filter(([id, raw, key]) => key.startsWith(`${model}/`) && keep(id, raw))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit);
    this.listed += entries.length;
    for (const [id, raw] of entries) this.addTo(listing, id, raw);
    return listing;
  }

  /** The names of models with a stored document that passes `keep`, in name order, each once: a page, as the Cosmos adapter's cross-partition query gives them. */
  protected async listModelsWhere(keep: (raw: unknown) => boolean, page: ModelNamePage): Promise<string[]> {
    if (!(Number.isInteger(page.limit) && page.limit >= 1)) throw errors.validation(`a page holds a whole number of names, at least 1, not ${page.limit}`);
    const names = new Set<string>();
    for (const [key, stored] of this.docs) {
      // Model names hold no '/' (modelNameSchema): the key's model is before the first.
      const model = key.slice(0, key.indexOf('/'));
      if ((page.after === undefined || model > page.after) && keep(stored.value)) names.add(model);
    }
    return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, page.limit);
  }

  private addTo(listing: DocumentListing<T>, id: string, raw: unknown): void {
    this.addRead(listing, this.read(id, raw));
  }

  private addRead(listing: DocumentListing<T>, read: { value: T } | UnreadableDocument): void {
    if ('value' in read) listing.documents.push(read.value);
    else listing.unreadable.push(read);
  }

  /**
   * A page of the model's documents that pass `keep`, newest first by the stored text property
   * `sortField` (`id`: by id), as the Cosmos adapter pages them: the whole order in memory, then the
   * entries after `page.after`.
   */
  protected async readPage(model: string, sortField: string, page: PageRequest, keep: (raw: unknown) => boolean = () => true): Promise<DocumentPage<T>> {
    const { limit, after, maxBytes = MAX_PAGE_BYTES } = page;
    if (!(Number.isInteger(limit) && limit >= 1)) throw errors.validation(`a page holds a whole number of entries, at least 1, not ${limit}`);
    if (!(Number.isInteger(maxBytes) && maxBytes >= 1)) throw errors.validation(`a page holds a whole number of bytes, at least 1, not ${maxBytes}`);
    const ordered = [...this.docs.entries()]
      .filter(([key, stored]) => key.startsWith(`${model}/`) && keep(stored.value))
      .map(([key, stored]) => {
        const id = key.slice(model.length + 1);
        const at = sortField === 'id' ? id : (stored.value as Record<string, unknown> | null)?.[sortField];
        return { id, raw: stored.value, at: typeof at === 'string' && (sortField === 'id' || at.length <= MAX_PAGE_TIME_LENGTH) ? at : null };
      })
      .sort((a, b) => (a.at !== b.at ? (a.at === null ? 1 : b.at === null ? -1 : a.at < b.at ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const isAfter = (e: { at: string | null; id: string }) =>
      after === undefined || (after.at === null ? e.at === null && e.id < after.id : e.at === null ? sortField !== 'id' : e.at < after.at || (e.at === after.at && e.id < after.id));
    const rest = ordered.filter(isAfter);
    const listing: DocumentPage<T> = { documents: [], unreadable: [], next: null };
    const reads = rest.slice(0, limit).map((entry) => this.read(entry.id, entry.raw));
    const held = entriesWithinBytes(reads, (read) => jsonBytes('value' in read ? read.value : read), maxBytes);
    this.listed += held;
    for (const read of reads.slice(0, held)) this.addRead(listing, read);
    const last = rest[held - 1];
    if (rest.length > held && last) listing.next = { at: last.at, id: last.id };
    return listing;
  }
}

/** A stored member as the Cosmos adapter's queries read it (an object's, else none). */
const member = (raw: unknown, name: string): unknown => (typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[name] : undefined);

/** A time written as toISOString writes it (UTC, milliseconds): only then is text order time order, as the Cosmos queries compare. */
const isCanonicalTime = (value: unknown): value is string => typeof value === 'string' && value.length === 24 && value.endsWith('Z');

/** As the Cosmos queries on times: at or after `since` as text, or written otherwise (the caller compares). */
const timeAtOrAfter = (value: unknown, since: Date) => !isCanonicalTime(value) || value >= since.toISOString();

/** As the Cosmos queries on text: equal, or a value that cannot be told (not text, or none of the schema's `known` values). */
const isOrUntold = (value: unknown, text: string, known: readonly string[]) => typeof value !== 'string' || value === text || !known.includes(value);

/** As the Cosmos query's IS_DEFINED: the member is there, whatever its value (null included). */
const followUpsPending = (raw: unknown) => typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>).followUpsPendingSince !== undefined;

/** As the Cosmos query of ModelsToReconcile: the stored state is one of `states` or cannot be told, or the document is marked. */
const toReconcile = (raw: unknown, states: readonly string[], known: readonly string[]) => {
  const state = member(raw, 'state');
  return typeof state !== 'string' || states.includes(state) || !known.includes(state) || followUpsPending(raw);
};

/** The runs in memory, with the Cosmos adapter's queries by creation time, state and schedule. */
export class InMemoryRunCollection extends InMemoryCollection<InferenceRun> implements RunCollection {
  constructor() {
    super('run', inferenceRunSchema);
  }

  async listCreatedSince(model: string, since: Date): Promise<InferenceRun[]> {
    return everyDocument('run', model, await this.listWhere(model, (_id, raw) => timeAtOrAfter(member(raw, 'createdAt'), since)));
  }

  async listReadableInState(model: string, state: RunState): Promise<DocumentListing<InferenceRun>> {
    return this.listWhere(model, (_id, raw) => isOrUntold(member(raw, 'state'), state, runStateSchema.options));
  }

  async listReadableFollowUpsPending(model: string): Promise<DocumentListing<InferenceRun>> {
    return this.listWhere(model, (_id, raw) => followUpsPending(raw));
  }

  listModelsToReconcile(states: readonly RunState[], page: ModelNamePage): Promise<string[]> {
    return this.listModelsWhere((raw) => toReconcile(raw, states, runStateSchema.options), page);
  }

  async listReadableLatestScheduled(model: string): Promise<DocumentListing<InferenceRun>> {
    const scheduled = (raw: unknown) => isOrUntold(member(raw, 'kind'), 'scheduled', inferenceRunSchema.shape.kind.options);
    // Cosmos's TOP 1 by `scheduledFor` (descending) takes one run of the latest time: here the first by id.
    const [latest] = [...this.docs.entries()]
      .filter(([key, stored]) => key.startsWith(`${model}/`) && scheduled(stored.value) && isCanonicalTime(member(stored.value, 'scheduledFor')))
      .map(([key, stored]) => ({ id: key.slice(model.length + 1), at: member(stored.value, 'scheduledFor') as string }))
      .sort((a, b) => (a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.id < b.id ? -1 : 1));
    return this.listWhere(model, (id, raw) => {
      if (!scheduled(raw)) return false;
      const at = member(raw, 'scheduledFor');
      return isCanonicalTime(at) ? id === latest?.id : at !== undefined;
    });
  }

  listReadablePage(model: string, page: PageRequest & { state?: RunState }): Promise<DocumentPage<InferenceRun>> {
    const states: readonly unknown[] = runStateSchema.options;
    return this.readPage(model, 'createdAt', page, (raw) => {
      const stored = (raw as { state?: unknown } | null)?.state;
      // A run whose stored state is none of the states may be in any of them: it is listed under each.
      return page.state === undefined || stored === page.state || !states.includes(stored);
    });
  }
}

/** The windows in memory, with the Cosmos adapter's query for windows whose performance may not have been judged. */
export class InMemoryWindowCollection extends InMemoryCollection<MonitoringWindow> implements WindowCollection {
  constructor() {
    super('window', monitoringWindowSchema);
  }

  async listReadablePerformanceUnjudged(model: string, before?: string): Promise<DocumentListing<MonitoringWindow>> {
    return this.listWhere(model, (id, raw) => {
      if (before !== undefined && id >= before) return false;
      const { performance, performanceEvaluation } = raw as { performance?: { updatedAt?: unknown } | null; performanceEvaluation?: { judgedUpdatedAt?: unknown } };
      const judged = performanceEvaluation?.judgedUpdatedAt;
      // Performance gone since one was judged (a replaced actuals file took the window's rows out).
      if (typeof performance !== 'object' || performance === null) return typeof judged === 'string';
      return judged === undefined || judged === null || judged !== performance.updatedAt;
    });
  }

  listReadablePage(model: string, page: PageRequest & { from?: string; to?: string }): Promise<DocumentPage<MonitoringWindow>> {
    return this.readPage(model, 'id', page, (raw) => overlaps(page, raw));
  }
}

/** Whether a stored window overlaps [from, to), as the Cosmos query compares: a missing or non-text time matches no bound. */
function overlaps(span: { from?: string; to?: string }, raw: unknown): boolean {
  const [from, to] = [span.from, span.to].map((t) => (t === undefined ? undefined : new Date(t).toISOString()));
  const { window } = raw as { window?: { start?: unknown; end?: unknown } };
  const text = (t: unknown): t is string => typeof t === 'string';
  return (from === undefined || (text(window?.end) && window.end > from)) && (to === undefined || (text(window?.start) && window.start < to));
}

/** Actuals records in memory, also by path (`source.path` of the stored item, as the Cosmos query reads it). */
export class InMemoryActualsCollection extends InMemoryCollection<ActualsRecord> implements ActualsCollection {
  constructor() {
    super('actuals', actualsRecordSchema);
  }

  async listReadableByPath(model: string, path: string): Promise<DocumentListing<ActualsRecord>> {
    return this.listWhere(model, (_id, raw) => {
      const stored = (raw as { source?: { path?: unknown } } | null)?.source?.path;
      return stored === path || typeof stored !== 'string';
    });
  }

  listReadablePage(model: string, page: PageRequest): Promise<DocumentPage<ActualsRecord>> {
    return this.readPage(model, 'createdAt', page);
  }

  async listReadableCreatedSince(model: string, since: Date): Promise<DocumentListing<ActualsRecord>> {
    return this.listWhere(model, (_id, raw) => timeAtOrAfter(member(raw, 'createdAt'), since));
  }

  async listReadableInState(model: string, state: ActualsRecord['state']): Promise<DocumentListing<ActualsRecord>> {
    return this.listWhere(model, (_id, raw) => isOrUntold(member(raw, 'state'), state, actualsRecordSchema.shape.state.options));
  }

  async listReadableFollowUpsPending(model: string): Promise<DocumentListing<ActualsRecord>> {
    return this.listWhere(model, (_id, raw) => followUpsPending(raw));
  }

  listModelsToReconcile(states: readonly ActualsRecord['state'][], page: ModelNamePage): Promise<string[]> {
    return this.listModelsWhere((raw) => toReconcile(raw, states, actualsRecordSchema.shape.state.options), page);
  }
}

/** Retraining records in memory, with the Cosmos adapter's queries by state, request time and result, paged by the time they were requested. */
export class InMemoryRetrainingCollection extends InMemoryCollection<RetrainingRecord> implements RetrainingCollection {
  constructor() {
    super('retraining', retrainingRecordSchema);
  }

  /** Open, or a state that cannot be told (not text). */
  private static open(raw: unknown): boolean {
    const state = member(raw, 'state');
    return typeof state !== 'string' || !(CLOSED_REQUEST_STATES as readonly string[]).includes(state);
  }

  async listReadableOpen(model: string): Promise<DocumentListing<RetrainingRecord>> {
    return this.listWhere(model, (_id, raw) => InMemoryRetrainingCollection.open(raw));
  }

  async listReadableOpenOrRequestedSince(model: string, since: Date): Promise<DocumentListing<RetrainingRecord>> {
    return this.listWhere(model, (_id, raw) => InMemoryRetrainingCollection.open(raw) || timeAtOrAfter(member(raw, 'requestedAt'), since));
  }

  async listReadableWithResultVersion(model: string, version: number): Promise<DocumentListing<RetrainingRecord>> {
    // A result that is there but not a number cannot be told apart from this one.
    return this.listWhere(model, (_id, raw) => {
      const result = member(raw, 'resultVersion');
      return result === version || (result !== undefined && typeof result !== 'number');
    });
  }

  listReadablePage(model: string, page: PageRequest): Promise<DocumentPage<RetrainingRecord>> {
    return this.readPage(model, 'requestedAt', page);
  }
}

export function inMemoryRunStore(): RunStore & { [K in keyof RunStore]: InMemoryCollection<Awaited<ReturnType<RunStore[K]['list']>>[number]> } {
  return {
    runs: new InMemoryRunCollection(),
    actuals: new InMemoryActualsCollection(),
    windows: new InMemoryWindowCollection(),
    retraining: new InMemoryRetrainingCollection(),
    monitors: new InMemoryCollection('monitor', monitorStateSchema),
  };
}
