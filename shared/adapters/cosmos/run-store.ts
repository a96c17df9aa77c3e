import type { ItemDefinition } from '@azure/cosmos';
import type { z } from 'zod';

import { checkDocumentSize } from '../../domain/document-size';
import { errors, formatIssues, parseOrThrow } from '../../domain/errors';
import { CLOSED_REQUEST_STATES } from '../../domain/policies/retraining-gate';
import type { Versioned } from '../../ports/model-registry';
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
} from '../../ports/run-store';
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
} from '../../schemas/monitoring';
import { entriesWithinBytes, jsonBytes, MAX_PAGE_BYTES, type PageKey } from '../../schemas/paging';
import { type CosmosContainers, cosmosContainers, cosmosStatus } from './client';
import { writingItem } from './item-size';

type Schema<T> = z.ZodType<T>;

/**
 * One docType of the `runs` container: Cosmos id `{docType}:{id}`, partition key the model. The
 * document is the value plus `id`, `docType` and `modelName`; Cosmos's own properties are dropped
 * when it is read back through the schema.
 */
class CosmosCollection<T extends { modelName: string }> implements DocumentCollection<T> {
  constructor(
    protected readonly docType: string,
    private readonly schema: Schema<T>,
    protected readonly containers: () => Promise<CosmosContainers>,
  ) {}

  protected cosmosId = (id: string) => `${this.docType}:${id}`;
  private described = (model: string, id: string) => `the ${this.docType} document '${id}' of '${model}'`;

  private toDoc(model: string, id: string, value: T): ItemDefinition {
    const parsed = parseOrThrow(this.schema, value, `${this.docType} document`);
    if (parsed.modelName !== model) throw errors.validation(`the ${this.docType} document is for '${parsed.modelName}', not '${model}'`);
    const item = { ...parsed, id: this.cosmosId(id), docType: this.docType };
    checkDocumentSize(item, this.described(model, id));
    return item;
  }

  /** The stored document as the schema reads it, or why it does not read (under its id without the docType prefix). */
  private read(resource: unknown): { value: T } | UnreadableDocument {
    const parsed = this.schema.safeParse(resource);
    if (parsed.success) return { value: parsed.data };
    const stored = (resource as { id?: unknown } | null)?.id;
    const id = typeof stored !== 'string' ? '(no id)' : stored.startsWith(`${this.docType}:`) ? stored.slice(this.docType.length + 1) : stored;
    return { id, reason: `its stored ${this.docType} document is invalid: ${formatIssues(parsed.error)}`.slice(0, 2000) };
  }

  private fromDoc(model: string, resource: unknown): T {
    const read = this.read(resource);
    if ('value' in read) return read.value;
    throw unreadableDocumentError(this.docType, model, read);
  }

  async get(model: string, id: string): Promise<Versioned<T> | undefined> {
    const { runs } = await this.containers();
    const response = await runs.item(this.cosmosId(id), model).read<ItemDefinition>();
    if (response.statusCode === 404 || response.resource === undefined) return undefined;
    return { value: this.fromDoc(model, response.resource), etag: required(response.etag) };
  }

  async create(model: string, id: string, doc: T): Promise<Created<T>> {
    const { runs } = await this.containers();
    const item = this.toDoc(model, id, doc);
    try {
      const response = await writingItem(this.described(model, id), () => runs.items.create(item));
      return { value: this.fromDoc(model, item), etag: required(response.etag), created: true };
    } catch (error) {
      if (cosmosStatus(error) !== 409) throw error;
      const existing = await this.get(model, id);
      if (!existing) throw error;
      return { ...existing, created: false };
    }
  }

  async replace(model: string, id: string, doc: T, etag: string): Promise<Versioned<T>> {
    const { runs } = await this.containers();
    const item = this.toDoc(model, id, doc);
    try {
      const response = await writingItem(this.described(model, id), () =>
        runs.item(this.cosmosId(id), model).replace(item, { accessCondition: { type: 'IfMatch', condition: etag } }),
      );
      return { value: this.fromDoc(model, item), etag: required(response.etag) };
    } catch (error) {
      const status = cosmosStatus(error);
      if (status === 412) throw errors.concurrencyConflict(`${this.docType} '${id}' of '${model}' changed since it was read`, { model, id });
      if (status === 404) throw errors.notFound(`${this.docType} '${id}' of '${model}' does not exist`, { model, id });
      throw error;
    }
  }

  async list(model: string): Promise<T[]> {
    return everyDocument(this.docType, model, await this.listReadable(model));
  }

  async listReadable(model: string): Promise<DocumentListing<T>> {
    return this.query(model);
  }

  async listReadableInRange(model: string, range: IdRange): Promise<DocumentListing<T>> {
    const limit = range.limit;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw errors.validation(`a listing limit is a whole number, not ${limit}`);
    const bounds: SqlFilter = { where: [], parameters: [] };
    if (range.from !== undefined) {
      bounds.where.push('c.id >= @from');
      bounds.parameters.push({ name: '@from', value: this.cosmosId(range.from) });
    }
    if (range.before !== undefined) {
      bounds.where.push('c.id < @before');
      bounds.parameters.push({ name: '@before', value: this.cosmosId(range.before) });
    }
    return this.query(model, bounds, limit);
  }

  /**
   * The model's documents of this kind matching `filter`, by id (the first `top`), read through the
   * schema: those that do not read listed apart. Cosmos ids carry the docType prefix, so an id range
   * is a range of `{docType}:{id}`. `orderBy` (another order than by id) is the app's own text, never input.
   */
  protected async query(model: string, filter: SqlFilter = { where: [], parameters: [] }, top?: number, orderBy = 'c.id'): Promise<DocumentListing<T>> {
    const listing: DocumentListing<T> = { documents: [], unreadable: [] };
    for (const resource of await this.queryItems(model, filter, orderBy, top)) this.addTo(listing, resource);
    return listing;
  }

  /** The stored items of this kind of the model matching `filter`, in `orderBy` order (the first `top`), as stored. */
  private async queryItems(model: string, filter: SqlFilter, orderBy: string, top?: number): Promise<unknown[]> {
    return (await this.queryItemsWithin(model, filter, orderBy, top)).items;
  }

  /**
   * As queryItems, but with `maxBytes` it stops reading after the item that takes the items read
   * past it (`pageBytes` of each): `stopped` then says more may follow. What was read is at most
   * the budget and the rest of one answer page (BOUNDED_READ_ITEMS items, at most 4 MB on Azure).
   */
  private async queryItemsWithin(model: string, filter: SqlFilter, orderBy: string, top?: number, maxBytes = Infinity): Promise<{ items: unknown[]; stopped: boolean }> {
    const { runs } = await this.containers();
    const where = ['c.modelName = @model', 'c.docType = @docType', ...filter.where].join(' AND ');
    const query = runs.items.query<unknown>(
      {
        // TOP takes a literal: `top` is checked to be a whole number.
        query: `SELECT ${top === undefined ? '' : `TOP ${top} `}* FROM c WHERE ${where} ORDER BY ${orderBy}`,
        parameters: [{ name: '@model', value: model }, { name: '@docType', value: this.docType }, ...filter.parameters],
      },
      // Byte-bounded reads fetch a few items at a time: Azure caps an answer page at 4 MB, but a
      // server that does not (the local one) would otherwise answer a whole page of 2 MB documents.
      { partitionKey: model, ...(maxBytes === Infinity ? {} : { maxItemCount: BOUNDED_READ_ITEMS }) },
    );
    if (maxBytes === Infinity) return { items: (await query.fetchAll()).resources, stopped: false };
    const items: unknown[] = [];
    let bytes = 0;
    while (query.hasMoreResults()) {
      const resources = (await query.fetchNext()).resources ?? [];
      for (const [i, resource] of resources.entries()) {
        items.push(resource);
        bytes += this.pageBytes(resource);
        if (bytes > maxBytes) return { items, stopped: i < resources.length - 1 || query.hasMoreResults() };
      }
    }
    return { items, stopped: false };
  }

  /**
   * The names of models with a document of this kind matching `filter`, across partitions, in
   * name order, each once (ModelsToReconcile). Cosmos SQL here has no DISTINCT the local server
   * runs, so names are read TOP MODEL_SCAN_ITEMS at a time after the last name seen: every query
   * brings at least one new name, and a model's many documents cost at most one bounded query.
   */
  protected async listModelsWhere(filter: SqlFilter, page: ModelNamePage): Promise<string[]> {
    if (!(Number.isInteger(page.limit) && page.limit >= 1)) throw errors.validation(`a page holds a whole number of names, at least 1, not ${page.limit}`);
    const { runs } = await this.containers();
    const names: string[] = [];
    let after = page.after;
    while (names.length < page.limit) {
      const where = ['c.docType = @docType', 'IS_STRING(c.modelName)', ...(after === undefined ? [] : ['c.modelName > @after']), ...filter.where];
      const parameters = [{ name: '@docType', value: this.docType }, ...(after === undefined ? [] : [{ name: '@after', value: after }]), ...filter.parameters];
      const { resources } = await runs.items
        .query<{ modelName: string }>({ query: `SELECT TOP ${MODEL_SCAN_ITEMS} c.modelName FROM c WHERE ${where.join(' AND ')} ORDER BY c.modelName`, parameters })
        .fetchAll();
      // In name order: a name repeats only next to itself.
      for (const { modelName } of resources) if (names.at(-1) !== modelName) names.push(modelName);
      if (resources.length < MODEL_SCAN_ITEMS) break;
      after = names.at(-1);
    }
    return names.slice(0, page.limit);
  }

  /** What a stored item takes on a page: the JSON of the document as read, or of its `unreadable` entry. */
  private pageBytes(resource: unknown): number {
    const read = this.read(resource);
    return jsonBytes('value' in read ? read.value : read);
  }

  private addTo(listing: DocumentListing<T>, resource: unknown): void {
    this.addRead(listing, this.read(resource));
  }

  private addRead(listing: DocumentListing<T>, read: { value: T } | UnreadableDocument): void {
    if ('value' in read) listing.documents.push(read.value);
    else listing.unreadable.push(read);
  }

  /**
   * A page of the documents matching `filter`, newest first by the text property `sortField`, as
   * NewestFirstPages (shared/ports/run-store.ts) describes; `id` orders by id alone. Each query reads
   * at most one entry more than the page needs. Ordering by one property needs no composite index
   * (on Azure, or on the local server, which refuses a two-property ORDER BY without one); entries
   * of one time are put in id order here, and a page that ends inside a run of equal times reads
   * the rest of its page from that run, in id order.
   */
  protected async readPage(model: string, sortField: string, page: PageRequest, filter: SqlFilter = { where: [], parameters: [] }): Promise<DocumentPage<T>> {
    const { limit, after, maxBytes = MAX_PAGE_BYTES } = page;
    if (!(Number.isInteger(limit) && limit >= 1)) throw errors.validation(`a page holds a whole number of entries, at least 1, not ${limit}`);
    if (!(Number.isInteger(maxBytes) && maxBytes >= 1)) throw errors.validation(`a page holds a whole number of bytes, at least 1, not ${maxBytes}`);
    const timedRead = after?.at === null ? { entries: [], stopped: false } : await this.timedEntries(model, sortField, filter, limit, maxBytes, after);
    const { entries } = timedRead;
    // A read stopped by bytes left entries unread after those it answers.
    let more = entries.length > limit || timedRead.stopped;
    entries.splice(limit);
    // Documents without a time (not text, or too long to carry in a key) follow the others, by id
    // (with the page full in bytes, one is still read: it tells whether any follow).
    if (!more && sortField !== 'id') {
      const room = limit - entries.length;
      const { entries: untimed, stopped } = await this.untimedEntries(model, sortField, filter, room + 1, maxBytes - bytesOf(entries), after?.at === null ? after.id : undefined);
      more = untimed.length > room || stopped;
      entries.push(...untimed.slice(0, room));
    }
    // Entries in page order, ties read in id order: a page cut anywhere by its bytes ends at an exact key.
    const held = entriesWithinBytes(entries, (entry) => entry.bytes, maxBytes);
    more ||= held < entries.length;
    const listing: DocumentPage<T> = { documents: [], unreadable: [], next: null };
    for (const entry of entries.slice(0, held)) this.addTo(listing, entry.resource);
    const last = entries[held - 1];
    if (more && last) listing.next = { at: last.at, id: last.id };
    return listing;
  }

  /**
   * Up to `limit + 1` entries with a time in `sortField` (see `timed`), after `after`, newest first
   * (ties by id, descending). The read stops once the entries pass `maxBytes`: those answered then
   * pass it too, so the page is cut before their end and more follow (readPage).
   */
  private async timedEntries(model: string, sortField: string, filter: SqlFilter, limit: number, maxBytes: number, after?: PageKey): Promise<PageRead> {
    const field = sortField === 'id' ? 'c.id' : `c[${JSON.stringify(sortField)}]`;
    const bounded: SqlFilter = { where: [...filter.where, sortField === 'id' ? 'IS_STRING(c.id)' : timed(field)], parameters: [...filter.parameters] };
    if (after !== undefined && after.at !== null) {
      bounded.where.push(sortField === 'id' ? 'c.id < @afterId' : `(${field} < @afterAt OR (${field} = @afterAt AND c.id < @afterId))`);
      bounded.parameters.push({ name: '@afterId', value: this.cosmosId(after.id) });
      if (sortField !== 'id') bounded.parameters.push({ name: '@afterAt', value: after.at });
    }
    const read = await this.queryItemsWithin(model, bounded, `${field} DESC`, limit + 1, maxBytes);
    const first = read.items.map((r) => this.entryOf(r, sortField)).sort(newestFirst);
    // Cosmos orders equal times in no particular order, so the last time read may lack entries that
    // sort among those read: a run of equal times at the end of a read cut short by bytes, or across
    // the page's end, is read again in id order, for the page's remaining places (and one more).
    const [last, beyond] = read.stopped ? [first.at(-1), undefined] : [first[limit - 1], first[limit]];
    if (!last || last.at === null || sortField === 'id' || (!read.stopped && (!beyond || beyond.at !== last.at))) return { entries: first, stopped: read.stopped };
    const newer = first.filter((e) => e.at !== last.at);
    if (read.stopped && bytesOf(newer) > maxBytes) return { entries: newer, stopped: true };
    const tied: SqlFilter = { where: [...filter.where, `${field} = @tiedAt`], parameters: [...filter.parameters, { name: '@tiedAt', value: last.at }] };
    if (after?.at === last.at) {
      tied.where.push('c.id < @afterId');
      tied.parameters.push({ name: '@afterId', value: this.cosmosId(after.id) });
    }
    const ties = await this.queryItemsWithin(model, tied, 'c.id DESC', limit - newer.length + 1, maxBytes - bytesOf(newer));
    // Past the run of equal times, more may follow whenever the first read stopped short.
    return { entries: [...newer, ...ties.items.map((r) => this.entryOf(r, sortField))], stopped: ties.stopped || read.stopped };
  }

  /** Up to `top` entries without a time in `sortField` (documents that do not read), after the id `afterId`, by id descending, the read stopping past `maxBytes`. */
  private async untimedEntries(model: string, sortField: string, filter: SqlFilter, top: number, maxBytes: number, afterId?: string): Promise<PageRead> {
    const untimed: SqlFilter = { where: [...filter.where, `NOT ${timed(`c[${JSON.stringify(sortField)}]`)}`], parameters: [...filter.parameters] };
    if (afterId !== undefined) {
      untimed.where.push('c.id < @afterId');
      untimed.parameters.push({ name: '@afterId', value: this.cosmosId(afterId) });
    }
    const read = await this.queryItemsWithin(model, untimed, 'c.id DESC', top, maxBytes);
    return { entries: read.items.map((r) => this.entryOf(r, sortField)), stopped: read.stopped };
  }

  /** A stored item with its place in a page's order: its time (null when not text), its id without the docType prefix, and its bytes on a page. */
  private entryOf(resource: unknown, sortField: string): PageEntry {
    const stored = resource as Record<string, unknown>;
    const cosmosId = String(stored.id);
    const id = cosmosId.startsWith(`${this.docType}:`) ? cosmosId.slice(this.docType.length + 1) : cosmosId;
    const at = sortField === 'id' ? id : stored[sortField];
    return { resource, at: sortField === 'id' || isPageTime(at) ? (at as string) : null, id, bytes: this.pageBytes(resource) };
  }
}

/** The condition that `field` holds a time that orders a page: text, not longer than MAX_PAGE_TIME_LENGTH. */
const timed = (field: string) => `(IS_STRING(${field}) AND LENGTH(${field}) <= ${MAX_PAGE_TIME_LENGTH})`;
const isPageTime = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_PAGE_TIME_LENGTH;

/** Items per answer page of a byte-bounded read: a page of 100 small entries is 4 round trips. */
const BOUNDED_READ_ITEMS = 25;

/** A stored item on its way to a page, with its place in the page's order and its bytes on the page. */
interface PageEntry {
  resource: unknown;
  at: string | null;
  id: string;
  bytes: number;
}

/** Entries read for a page, and whether the read stopped at the byte budget with more possibly unread. */
interface PageRead {
  entries: PageEntry[];
  stopped: boolean;
}

const bytesOf = (entries: readonly PageEntry[]) => entries.reduce((n, e) => n + e.bytes, 0);

/** Newest first: by time descending, then by id descending; entries without a time last (as text compares, as Cosmos does). */
function newestFirst(a: PageEntry, b: PageEntry): number {
  if (a.at !== b.at) return a.at === null ? 1 : b.at === null ? -1 : a.at < b.at ? 1 : -1;
  return a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
}

/** More conditions for a query (ANDed) and their parameters. */
interface SqlFilter {
  where: string[];
  parameters: Array<{ name: string; value: string | number }>;
}

/** Whether `field` holds a time as toISOString writes it (UTC, milliseconds): only then is text order time order. */
const canonicalTime = (field: string) => `(IS_STRING(${field}) AND LENGTH(${field}) = 24 AND ENDSWITH(${field}, "Z"))`;

/**
 * `field` at or after `since`, compared as text where it is written as the app writes times; one
 * written otherwise matches too (its time cannot be told from the text: the caller compares).
 */
function timeAtOrAfter(field: string, name: string, since: Date): SqlFilter {
  return { where: [`(NOT ${canonicalTime(field)} OR ${field} >= ${name})`], parameters: [{ name, value: since.toISOString() }] };
}

/**
 * `field` is `value`, or its value cannot be told: not text, or text that is none of `known` (the
 * schema's values: a damaged document's). Spelled out: Cosmos compares other types as undefined, never true.
 */
function isOrUntold(field: string, name: string, value: string, known: readonly string[]): SqlFilter {
  const knownNames = known.map((_, i) => `${name}Known${i}`);
  return {
    where: [`(NOT IS_STRING(${field}) OR ${field} = ${name} OR NOT (${field} IN (${knownNames.join(', ')})))`],
    parameters: [{ name, value }, ...known.map((v, i) => ({ name: knownNames[i]!, value: v }))],
  };
}

/** Documents reconciliation failed whose follow-ups are not done yet (any stored value: one that is not a time does not read and is listed apart). */
const FOLLOW_UPS_PENDING: SqlFilter = { where: ['IS_DEFINED(c.followUpsPendingSince)'], parameters: [] };

/** Items a query for model names reads at most (listModelsWhere). */
const MODEL_SCAN_ITEMS = 100;

/**
 * What reconciliation judges (ModelsToReconcile): `c.state` one of `states` or untold (not text, or
 * none of `known`), or marked FOLLOW_UPS_PENDING.
 */
function toReconcile(states: readonly string[], known: readonly string[]): SqlFilter {
  const stateNames = states.map((_, i) => `@state${i}`);
  const knownNames = known.map((_, i) => `@known${i}`);
  const inStates = stateNames.length === 0 ? [] : [`c.state IN (${stateNames.join(', ')})`];
  return {
    where: [`(${[...inStates, 'NOT IS_STRING(c.state)', `NOT (c.state IN (${knownNames.join(', ')}))`, ...FOLLOW_UPS_PENDING.where].join(' OR ')})`],
    parameters: [...states.map((value, i) => ({ name: stateNames[i]!, value })), ...known.map((value, i) => ({ name: knownNames[i]!, value }))],
  };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Both listings (of disjoint queries) in one, by id. */
function joined<T>(a: DocumentListing<T>, b: DocumentListing<T>, idOf: (doc: T) => string): DocumentListing<T> {
  return {
    documents: [...a.documents, ...b.documents].sort((x, y) => byText(idOf(x), idOf(y))),
    unreadable: [...a.unreadable, ...b.unreadable].sort((x, y) => byText(x.id, y.id)),
  };
}

class CosmosRunCollection extends CosmosCollection<InferenceRun> implements RunCollection {
  constructor(containers: () => Promise<CosmosContainers>) {
    super('run', inferenceRunSchema, containers);
  }

  async listCreatedSince(model: string, since: Date): Promise<InferenceRun[]> {
    return everyDocument('run', model, await this.query(model, timeAtOrAfter('c.createdAt', '@since', since)));
  }

  listReadableInState(model: string, state: RunState): Promise<DocumentListing<InferenceRun>> {
    return this.query(model, isOrUntold('c.state', '@state', state, runStateSchema.options));
  }

  listReadableFollowUpsPending(model: string): Promise<DocumentListing<InferenceRun>> {
    return this.query(model, FOLLOW_UPS_PENDING);
  }

  listModelsToReconcile(states: readonly RunState[], page: ModelNamePage): Promise<string[]> {
    return this.listModelsWhere(toReconcile(states, runStateSchema.options), page);
  }

  async listReadableLatestScheduled(model: string): Promise<DocumentListing<InferenceRun>> {
    const scheduled = isOrUntold('c.kind', '@kind', 'scheduled', inferenceRunSchema.shape.kind.options);
    const [latest, writtenOtherwise] = await Promise.all([
      // One property in ORDER BY: Cosmos's default range index serves it.
      this.query(model, { ...scheduled, where: [...scheduled.where, canonicalTime('c.scheduledFor')] }, 1, 'c.scheduledFor DESC'),
      this.query(model, { ...scheduled, where: [...scheduled.where, 'IS_DEFINED(c.scheduledFor)', `NOT ${canonicalTime('c.scheduledFor')}`] }),
    ]);
    return joined(latest, writtenOtherwise, (run) => run.runId);
  }

  listReadablePage(model: string, page: PageRequest & { state?: RunState }): Promise<DocumentPage<InferenceRun>> {
    if (page.state === undefined) return this.readPage(model, 'createdAt', page);
    // A run whose stored state is none of the states may be in any of them: it is listed under each.
    const states = runStateSchema.options.map((s) => JSON.stringify(s)).join(', ');
    const filter: SqlFilter = { where: [`(c.state = @state OR NOT IS_STRING(c.state) OR NOT (c.state IN (${states})))`], parameters: [{ name: '@state', value: page.state }] };
    return this.readPage(model, 'createdAt', page, filter);
  }
}

/** Actuals records, queried by path: one file's versions cost their own documents, not the model's history. */
class CosmosActualsCollection extends CosmosCollection<ActualsRecord> implements ActualsCollection {
  constructor(containers: () => Promise<CosmosContainers>) {
    super('actuals', actualsRecordSchema, containers);
  }

  listReadableByPath(model: string, path: string): Promise<DocumentListing<ActualsRecord>> {
    // A path that is not text (damaged) cannot be told apart from this one: listed apart as a version that may be of it.
    return this.query(model, { where: ['(c.source.path = @path OR NOT IS_STRING(c.source.path))'], parameters: [{ name: '@path', value: path }] });
  }

  listReadablePage(model: string, page: PageRequest): Promise<DocumentPage<ActualsRecord>> {
    return this.readPage(model, 'createdAt', page);
  }

  listReadableCreatedSince(model: string, since: Date): Promise<DocumentListing<ActualsRecord>> {
    return this.query(model, timeAtOrAfter('c.createdAt', '@since', since));
  }

  listReadableInState(model: string, state: ActualsRecord['state']): Promise<DocumentListing<ActualsRecord>> {
    return this.query(model, isOrUntold('c.state', '@state', state, actualsRecordSchema.shape.state.options));
  }

  listReadableFollowUpsPending(model: string): Promise<DocumentListing<ActualsRecord>> {
    return this.query(model, FOLLOW_UPS_PENDING);
  }

  listModelsToReconcile(states: readonly ActualsRecord['state'][], page: ModelNamePage): Promise<string[]> {
    return this.listModelsWhere(toReconcile(states, actualsRecordSchema.shape.state.options), page);
  }
}

/**
 * Retraining records, queried by state, request time and result (the gate and the lifecycle's end
 * read a handful, not the model's history), and paged by the time they were requested.
 */
class CosmosRetrainingCollection extends CosmosCollection<RetrainingRecord> implements RetrainingCollection {
  constructor(containers: () => Promise<CosmosContainers>) {
    super('retraining', retrainingRecordSchema, containers);
  }

  /** Open, or a state that cannot be told (not text): `NOT IN` alone is undefined, never true, on other types. */
  private open(): SqlFilter {
    const names = CLOSED_REQUEST_STATES.map((_, i) => `@closed${i}`);
    return {
      where: [`(NOT IS_STRING(c.state) OR NOT (c.state IN (${names.join(', ')})))`],
      parameters: CLOSED_REQUEST_STATES.map((value, i) => ({ name: names[i]!, value })),
    };
  }

  listReadableOpen(model: string): Promise<DocumentListing<RetrainingRecord>> {
    return this.query(model, this.open());
  }

  listReadableOpenOrRequestedSince(model: string, since: Date): Promise<DocumentListing<RetrainingRecord>> {
    const [open, recent] = [this.open(), timeAtOrAfter('c.requestedAt', '@since', since)];
    return this.query(model, { where: [`(${open.where.join(' AND ')} OR ${recent.where.join(' AND ')})`], parameters: [...open.parameters, ...recent.parameters] });
  }

  listReadableWithResultVersion(model: string, version: number): Promise<DocumentListing<RetrainingRecord>> {
    // A result that is there but not a number cannot be told apart from this one.
    return this.query(model, { where: ['(c.resultVersion = @version OR (IS_DEFINED(c.resultVersion) AND NOT IS_NUMBER(c.resultVersion)))'], parameters: [{ name: '@version', value: version }] });
  }

  listReadablePage(model: string, page: PageRequest): Promise<DocumentPage<RetrainingRecord>> {
    return this.readPage(model, 'requestedAt', page);
  }
}

class CosmosWindowCollection extends CosmosCollection<MonitoringWindow> implements WindowCollection {
  constructor(containers: () => Promise<CosmosContainers>) {
    super('window', monitoringWindowSchema, containers);
  }

  async listReadablePerformanceUnjudged(model: string, before?: string): Promise<DocumentListing<MonitoringWindow>> {
    const judged = 'c.performanceEvaluation.judgedUpdatedAt';
    const filter: SqlFilter = {
      // Spelled out for each case: Cosmos compares values of different types (or missing ones) as undefined, never true.
      // Also performance gone since one was judged (a replaced actuals file took the window's rows out).
      where: [
        `((IS_OBJECT(c.performance) AND (NOT IS_DEFINED(${judged}) OR IS_NULL(${judged}) OR ${judged} != c.performance.updatedAt))` +
          ` OR ((NOT IS_DEFINED(c.performance) OR IS_NULL(c.performance)) AND IS_STRING(${judged})))`,
      ],
      parameters: [],
    };
    if (before !== undefined) {
      filter.where.push('c.id < @before');
      filter.parameters.push({ name: '@before', value: this.cosmosId(before) });
    }
    return this.query(model, filter);
  }

  /** A window's id is its start: id order is time order, and ids are unique. */
  listReadablePage(model: string, page: PageRequest & { from?: string; to?: string }): Promise<DocumentPage<MonitoringWindow>> {
    return this.readPage(model, 'id', page, overlapping(page));
  }
}

/** The windows overlapping [from, to), either bound open when absent. */
function overlapping(span: { from?: string; to?: string }): SqlFilter {
  const filter: SqlFilter = { where: [], parameters: [] };
  if (span.from !== undefined) {
    filter.where.push('c["window"]["end"] > @from');
    filter.parameters.push({ name: '@from', value: new Date(span.from).toISOString() });
  }
  if (span.to !== undefined) {
    filter.where.push('c["window"]["start"] < @to');
    filter.parameters.push({ name: '@to', value: new Date(span.to).toISOString() });
  }
  // ISO 8601 in UTC with milliseconds, as the app writes window times, compares as text in time order.
  return filter;
}

function required(etag: string | undefined): string {
  if (!etag) throw new Error('Cosmos DB answered without an ETag');
  return etag;
}

/** The production loop's records on Cosmos DB (container `runs`). */
export function cosmosRunStore(containers: () => Promise<CosmosContainers> = cosmosContainers): RunStore {
  return {
    runs: new CosmosRunCollection(containers),
    actuals: new CosmosActualsCollection(containers),
    windows: new CosmosWindowCollection(containers),
    retraining: new CosmosRetrainingCollection(containers),
    monitors: new CosmosCollection('monitor', monitorStateSchema, containers),
  };
}
