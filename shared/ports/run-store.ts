import type { ActualsRecord, InferenceRun, MonitoringWindow, MonitorState, RetrainingRecord, RunState } from '../schemas/monitoring';
import type { PageKey } from '../schemas/paging';
import type { Versioned } from './model-registry';
import type { PageRequest } from './paging';

/** What `create` did: stored the document, or found one with that id (returned as stored). */
export interface Created<T> extends Versioned<T> {
  created: boolean;
}

/** A stored document that no longer reads (damaged, or written under rules that have since tightened), and why. */
export interface UnreadableDocument {
  id: string;
  reason: string;
}

/** The documents of one kind of a model that read, by id, and those that do not, by id. */
export interface DocumentListing<T> {
  documents: T[];
  unreadable: UnreadableDocument[];
}

/**
 * One kind of document of a model, by id, with ETag concurrency. Documents are validated with
 * their schema before they are written and after they are read; one larger than the store holds
 * (MAX_DOCUMENT_BYTES, shared/domain/document-size.ts) is PAYLOAD_TOO_LARGE and nothing is written.
 * A stored document that no longer reads fails `get` and `list` with an error naming it.
 */
export interface DocumentCollection<T> {
  get(model: string, id: string): Promise<Versioned<T> | undefined>;
  /** Stores a new document; when the id is taken, the stored one comes back with `created: false`. */
  create(model: string, id: string, doc: T): Promise<Created<T>>;
  /** Replaces the document if its stored ETag is still `etag`; CONCURRENCY_CONFLICT otherwise, NOT_FOUND if gone. */
  replace(model: string, id: string, doc: T, etag: string): Promise<Versioned<T>>;
  /**
   * Every document of this kind of the model, by id. One that does not read fails the call, naming
   * it: for callers that must see every document (a gate that must not miss an open request).
   */
  list(model: string): Promise<T[]>;
  /**
   * Every document of this kind of the model, by id, those that do not read listed apart with the
   * reason: one bad document must not hide the others from a caller that can go on without it.
   */
  listReadable(model: string): Promise<DocumentListing<T>>;
  /**
   * The documents of this kind of the model whose id lies in the range, by id, those that do not
   * read listed apart (as `listReadable`). A window's id sorts by its start (shared/domain/windows.ts),
   * so for windows this reads a span of time, not the model's whole history.
   */
  listReadableInRange(model: string, range: IdRange): Promise<DocumentListing<T>>;
}

/** Ids in [from, before), either bound open when absent; at most `limit` documents, the first by id. */
export interface IdRange {
  from?: string;
  before?: string;
  limit?: number;
}

export type { PageRequest } from './paging';

/**
 * One page of a newest-first listing. Documents that do not read are listed apart, as `listReadable`
 * does, but take their place on the page like the others (a page holds up to `limit` of both), so
 * one that does not read never stops paging.
 */
export interface DocumentPage<T> extends DocumentListing<T> {
  /** The key of the page's last entry when more follow (pass it as `after`); null on the last page. */
  next: PageKey | null;
}

/** The longest stored time that orders a page; a time every schema accepts is far shorter. */
export const MAX_PAGE_TIME_LENGTH = 100;

/**
 * A kind of document listed a page at a time, newest first: by its stored time (descending, as the
 * store compares text: time order for times written as the app writes them, UTC ISO 8601 with
 * milliseconds), entries of one time by id (descending). Stored documents whose time is not text,
 * or longer than MAX_PAGE_TIME_LENGTH (missing, damaged: none of them reads), come after all the
 * others, by id (descending): a page's key, which holds its last time, stays short. Only the
 * page's entries (and one more, to tell whether more follow) are read, not the model's history;
 * across pages every document is listed exactly once, also when some are written between pages
 * (one written between pages is on a later page only if it sorts after the page read, as in any
 * keyset listing).
 */
export interface NewestFirstPages<T, F = object> {
  listReadablePage(model: string, page: PageRequest & F): Promise<DocumentPage<T>>;
}

/**
 * Whether the model has a stored document of this kind at all (readable or not), by one page of
 * one entry: an empty page past the last entry, or of a filter, is no sign that the name is unknown.
 */
export async function holdsAnyDocument(pages: NewestFirstPages<unknown>, model: string): Promise<boolean> {
  const first = await pages.listReadablePage(model, { limit: 1 });
  return first.documents.length + first.unreadable.length > 0;
}

/**
 * The monitoring windows, with the one query the drift monitor needs besides ranges. Pages order
 * windows by id, which is their start (shared/domain/windows.ts); `from`/`to` (ISO 8601, either
 * open when absent) keep the windows overlapping [from, to), compared as the app stores window
 * times (UTC ISO 8601 with milliseconds), so the store uses its index.
 */
export interface WindowCollection extends DocumentCollection<MonitoringWindow>, NewestFirstPages<MonitoringWindow, { from?: string; to?: string }> {
  /**
   * The model's windows with realised performance that their last performance evaluation may not
   * have judged: none recorded, or one that judged another `performance.updatedAt` (or says
   * nothing of it, as evaluations written before it was kept), or none any more after one was
   * judged (a replaced actuals file took its rows out). Late actuals land here; a window
   * judged since leaves it. Callers refine with their own rule: it may hold a few more. With
   * `before`, only windows whose id sorts before it (that start earlier).
   */
  listReadablePerformanceUnjudged(model: string, before?: string): Promise<DocumentListing<MonitoringWindow>>;
}

/** A page of model names, in name order: at most `limit` names after `after` (pass a page's last name for the next). */
export interface ModelNamePage {
  after?: string;
  limit: number;
}

/**
 * Models with documents reconciliation judges, across every model's partition: the query that
 * finds them whether or not the model is registered (a drop for a model not registered yet waits
 * for its champion). Documents that do not read count as their stored model's.
 */
export interface ModelsToReconcile<S extends string> {
  /**
   * The names of models with a document of this kind in one of `states` (or whose state cannot be
   * told: not text, or text that is no state), or marked `followUpsPendingSince`, in name order,
   * each once: a page of `page.limit` names after `page.after`. Each query the store runs reads a
   * bounded number of items, however many documents a model has.
   */
  listModelsToReconcile(states: readonly S[], page: ModelNamePage): Promise<string[]>;
}

/**
 * The inference runs, with the query the actuals join needs besides ranges of ids. Pages order runs
 * by `createdAt`; `state` keeps the runs whose stored state is that one, and runs that do not read
 * whose stored state is none of the states (they may be in that one).
 */
export interface RunCollection extends DocumentCollection<InferenceRun>, NewestFirstPages<InferenceRun, { state?: RunState }>, ModelsToReconcile<RunState> {
  /**
   * The model's runs created at or after `since`, by id: a query on `createdAt` as the app writes it
   * (UTC ISO 8601 with milliseconds), so a model's older runs are not read. A run whose `createdAt`
   * is not written so is listed too (the caller compares times); one that does not read fails the
   * call naming it, as `list` does.
   */
  listCreatedSince(model: string, since: Date): Promise<InferenceRun[]>;
  /**
   * The model's runs in `state`, by id, those that do not read listed apart: among them any whose
   * state cannot be told (not text, or text that is no run state), which may be in it. A champion change wakes the
   * waiting runs without reading the model's finished ones.
   */
  listReadableInState(model: string, state: RunState): Promise<DocumentListing<InferenceRun>>;
  /**
   * The model's runs with `followUpsPendingSince` (failed by reconciliation, `run.failed` not yet
   * published), by id, those that do not read listed apart: a query on that field, so only the
   * few marked runs are read, never the model's history.
   */
  listReadableFollowUpsPending(model: string): Promise<DocumentListing<InferenceRun>>;
  /**
   * The runs that may be the model's latest scheduled run, by id: of the scheduled runs whose
   * `scheduledFor` is written as the app writes times (UTC ISO 8601 with milliseconds), the one with
   * the latest, and every one whose `scheduledFor` is written otherwise (its place in time order
   * cannot be told from the text); a run whose kind cannot be told (not text, or text that is no
   * kind) counts as scheduled. Those that
   * do not read are listed apart: the latest may be one of them.
   */
  listReadableLatestScheduled(model: string): Promise<DocumentListing<InferenceRun>>;
}

/** Actuals records: also the versions of one actuals file, found without reading the model's others. Pages order them by `createdAt`. */
export interface ActualsCollection extends DocumentCollection<ActualsRecord>, NewestFirstPages<ActualsRecord>, ModelsToReconcile<ActualsRecord['state']> {
  /**
   * The records whose `source.path` is `path` (every version of that blob joined), by id, those
   * that do not read listed apart as `listReadable` does (among them, any whose path cannot be told).
   */
  listReadableByPath(model: string, path: string): Promise<DocumentListing<ActualsRecord>>;
  /**
   * The records created at or after `since`, by id, those that do not read listed apart: a query on
   * `createdAt` as the app writes it (UTC ISO 8601 with milliseconds); a record whose `createdAt` is
   * written otherwise is listed too (the caller compares times).
   */
  listReadableCreatedSince(model: string, since: Date): Promise<DocumentListing<ActualsRecord>>;
  /**
   * The records in `state`, by id, those that do not read listed apart: among them any whose state
   * cannot be told (not text, or text that is no record state), which may be in it. Reconciliation
   * finds the running joins without reading the model's finished ones.
   */
  listReadableInState(model: string, state: ActualsRecord['state']): Promise<DocumentListing<ActualsRecord>>;
  /**
   * The records with `followUpsPendingSince` (failed by reconciliation, follow-ups not yet done),
   * by id, those that do not read listed apart: a query on that field, as the runs' one.
   */
  listReadableFollowUpsPending(model: string): Promise<DocumentListing<ActualsRecord>>;
}

/**
 * Retraining records: also the ones the retraining gate and the lifecycle's end need, found without
 * reading the model's history of requests. Each listing gives those that do not read apart, among
 * them any whose queried fields cannot be told (not written as the schema has them): such a
 * document may be one the caller looks for. Pages order requests by `requestedAt`.
 */
export interface RetrainingCollection extends DocumentCollection<RetrainingRecord>, NewestFirstPages<RetrainingRecord> {
  /** The open requests (state neither `closed` nor `failed`: isOpenRequest), by id. */
  listReadableOpen(model: string): Promise<DocumentListing<RetrainingRecord>>;
  /**
   * The open requests and those requested at or after `since`, by id: what the gate judges (one open
   * request per model; the cooldown after the last request). `requestedAt` is compared as the app
   * writes it (UTC ISO 8601 with milliseconds); a record whose `requestedAt` is written otherwise is
   * listed too (the caller compares times).
   */
  listReadableOpenOrRequestedSince(model: string, since: Date): Promise<DocumentListing<RetrainingRecord>>;
  /** The requests whose `resultVersion` is `version` (the version they produced), by id. */
  listReadableWithResultVersion(model: string, version: number): Promise<DocumentListing<RetrainingRecord>>;
}

/**
 * The production loop's records (Cosmos `runs`, pk `/modelName`): inference runs by run id,
 * actuals files by actuals id, monitoring windows by window id, retraining requests by request
 * id, and one monitor state per model (id `monitor`).
 */
export interface RunStore {
  runs: RunCollection;
  actuals: ActualsCollection;
  windows: WindowCollection;
  retraining: RetrainingCollection;
  monitors: DocumentCollection<MonitorState>;
}

/** The error for a stored document that does not read, naming it: a fault of the store, not of the caller. */
export function unreadableDocumentError(docType: string, model: string, document: UnreadableDocument): Error {
  return new Error(`the stored ${docType} document '${document.id}' of '${model}' cannot be read: ${document.reason}`);
}

/** The listing's documents when every one of them reads; otherwise the error naming the first that does not. */
export function everyDocument<T>(docType: string, model: string, listing: DocumentListing<T>): T[] {
  const [first, ...more] = listing.unreadable;
  if (!first) return listing.documents;
  const error = unreadableDocumentError(docType, model, first);
  if (more.length > 0) error.message += ` (and ${more.length} more: ${more.map((u) => `'${u.id}'`).join(', ')})`.slice(0, 2000);
  throw error;
}
