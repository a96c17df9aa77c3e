import { randomUUID } from 'node:crypto';

import type { Container, ItemDefinition, SqlParameter } from '@azure/cosmos';
import type { z } from 'zod';

import { checkDocumentSize } from '../../domain/document-size';
import { errors, formatIssues, isDomainError, parseOrThrow } from '../../domain/errors';
import { championAtFromEvents, compareLedgerEntries, compareLedgerPageOrder, ledgerTimeBound } from '../../domain/lifecycle';
import type { AuditFilter, AuditPage, ModelListing, ModelPage, ModelRegistry, RegisteredVersion, UnreadableVersion, Versioned, VersionListing } from '../../ports/model-registry';
import type { PageRequest } from '../../ports/paging';
import { MAX_PAGE_TIME_LENGTH } from '../../ports/run-store';
import { versionNumberSchema } from '../../schemas/common';
import { LIFECYCLE_STATES, type LifecycleState } from '../../schemas/lifecycle';
import type { ModelVersion } from '../../schemas/model-version';
import {
  type AuditEvent,
  type AuditEventKind,
  auditEventSchema,
  type ChampionChangedEvent,
  type ChampionPointer,
  type ModelRecord,
} from '../../schemas/registry';
import { type CosmosContainers, cosmosContainers, cosmosStatus } from './client';
import {
  CHAMPION_DOC_ID,
  championDocumentSchema,
  MODEL_DOC_ID,
  modelDocumentSchema,
  registrationClaimId,
  registrationClaimSchema,
  versionDocId,
  versionDocumentSchema,
} from './documents';
import { writingItem } from './item-size';

/** A registration claim older than this with no version is from a crashed call and may be taken over. */
const CLAIM_STALE_MS = 60_000;
/** How long a call waits for a concurrent registration with the same key to finish. */
const CLAIM_WAIT_MS = 30_000;

/** Candidate numbers tried by one registration before giving up (each miss means another won). */
const MAX_REGISTRATION_ATTEMPTS = 1000;
const MAX_LATEST_VERSION_ATTEMPTS = 100;

/**
 * The registry on Cosmos DB: `models` holds the model, its versions and the champion pointer;
 * `audit` is the append-only ledger. Every document is parsed with zod before it is written and
 * after it is read. Only features the local Cosmos server supports are used (point reads,
 * create/replace with ETags, simple queries with ORDER BY and TOP).
 */
export class CosmosModelRegistry implements ModelRegistry {
  constructor(private readonly containers: () => Promise<CosmosContainers> = cosmosContainers) {}

  async createModel(model: ModelRecord): Promise<ModelRecord> {
    const doc = forWrite(modelDocumentSchema, { ...model, id: MODEL_DOC_ID, docType: 'model' });
    const { models } = await this.containers();
    try {
      await writingItem(described(doc), () => models.items.create(doc));
    } catch (error) {
      if (cosmosStatus(error) === 409) {
        throw errors.modelAlreadyExists(model.modelName);
      }
      throw error;
    }
    return toModelRecord(doc);
  }

  async getModel(model: string): Promise<ModelRecord | undefined> {
    const found = await this.read(MODEL_DOC_ID, model);
    return found && toModelRecord(fromRead(modelDocumentSchema, found.resource));
  }

  async readModel(model: string): Promise<Versioned<ModelRecord> | undefined> {
    const found = await this.read(MODEL_DOC_ID, model);
    return found && { value: toModelRecord(fromRead(modelDocumentSchema, found.resource)), etag: found.etag };
  }

  async replaceModel(model: ModelRecord, etag: string): Promise<Versioned<ModelRecord>> {
    const doc = forWrite(modelDocumentSchema, { ...model, id: MODEL_DOC_ID, docType: 'model' });
    const { models } = await this.containers();
    try {
      const response = await writingItem(described(doc), () => models.item(MODEL_DOC_ID, doc.modelName).replace(doc, { accessCondition: { type: 'IfMatch', condition: etag } }));
      return { value: toModelRecord(doc), etag: required(response.etag) };
    } catch (error) {
      const status = cosmosStatus(error);
      if (status === 412) throw errors.concurrencyConflict(`model '${model.modelName}' changed since it was read`, { model: model.modelName });
      if (status === 404) throw errors.modelNotFound(model.modelName);
      throw error;
    }
  }

  async listModels(): Promise<ModelListing> {
    const { models } = await this.containers();
    const { resources } = await models.items
      .query<unknown>({ query: "SELECT * FROM c WHERE c.docType = 'model'" })
      .fetchAll();
    const listing: ModelListing = { models: [], unreadable: [] };
    for (const resource of resources) addModelTo(listing, resource);
    listing.models.sort((a, b) => a.modelName.localeCompare(b.modelName));
    listing.unreadable.sort((a, b) => a.modelName.localeCompare(b.modelName));
    return listing;
  }

  async listModelsPage(page: PageRequest): Promise<ModelPage> {
    checkPageSize(page.limit);
    const { models } = await this.containers();
    // Names are unique (the model document's partition key), so the name alone is the key. A
    // document without a text name could not be reached by any route and is not on a page.
    const where = ["c.docType = 'model'", 'IS_STRING(c.modelName)'];
    const parameters: SqlParameter[] = [];
    if (page.after !== undefined) {
      where.push('c.modelName > @after');
      parameters.push({ name: '@after', value: page.after.id });
    }
    const { resources } = await models.items
      // TOP takes a literal: the limit is checked to be a whole number.
      .query<unknown>({ query: `SELECT TOP ${page.limit + 1} * FROM c WHERE ${where.join(' AND ')} ORDER BY c.modelName`, parameters })
      .fetchAll();
    const onPage = resources.slice(0, page.limit);
    const listing: ModelPage = { models: [], unreadable: [], next: null };
    for (const resource of onPage) addModelTo(listing, resource);
    if (resources.length > page.limit && onPage.length > 0) listing.next = { at: null, id: storedModelName(onPage.at(-1)) };
    return listing;
  }

  async registerVersion(
    model: string,
    build: (version: number) => ModelVersion,
    options: { registrationKey?: string } = {},
  ): Promise<RegisteredVersion> {
    // Checked before the first create: a version document must never exist without its model.
    if (!(await this.read(MODEL_DOC_ID, model))) throw errors.modelNotFound(model);
    const key = options.registrationKey;
    if (key === undefined) return { ...(await this.storeNextVersion(model, build)), created: true };
    return this.registerOnce(model, key, build);
  }

  /**
   * Registration under an idempotency key: a claim document (id from the key) is created first, so
   * of concurrent calls exactly one registers; the others wait for the claim to name the version.
   * A claim left pending by a crashed registration is taken over after CLAIM_STALE_MS, and the
   * new owner first looks for a version the crashed one may have stored.
   */
  private async registerOnce(model: string, key: string, build: (version: number) => ModelVersion): Promise<RegisteredVersion> {
    const { models } = await this.containers();
    const id = registrationClaimId(key);
    const owner = randomUUID();
    const deadline = Date.now() + CLAIM_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const claim = await this.read(id, model);
      if (claim === undefined) {
        const fresh = forWrite(registrationClaimSchema, { id, docType: 'registration', modelName: model, key, owner, claimedAt: new Date().toISOString(), version: null });
        try {
          const { etag } = await models.items.create(fresh);
          return await this.completeClaim(model, key, { doc: fresh, etag: required(etag) }, build);
        } catch (error) {
          if (cosmosStatus(error) !== 409) throw error;
          continue; // another call claimed the key first: read its claim
        }
      }
      const stored = fromRead(registrationClaimSchema, claim.resource);
      if (stored.version !== null) {
        const found = await this.getVersion(model, stored.version);
        if (!found) throw new Error(`registration claim '${key}' names version ${stored.version} of '${model}', which does not exist`);
        return { ...found, created: false };
      }
      if (Date.now() - Date.parse(stored.claimedAt) > CLAIM_STALE_MS) {
        const takeover = { ...stored, owner, claimedAt: new Date().toISOString() };
        try {
          const { etag } = await models.item(id, model).replace(takeover, { accessCondition: { type: 'IfMatch', condition: claim.etag } });
          return await this.completeClaim(model, key, { doc: takeover, etag: required(etag) }, build);
        } catch (error) {
          if (cosmosStatus(error) !== 412) throw error;
          continue;
        }
      }
      if (Date.now() > deadline) {
        throw errors.concurrencyConflict(`a registration of '${model}' with this key is still in progress; retry later`, { model, registrationKey: key });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * (attempt + 1), 500)));
    }
  }

  /**
   * The claim's owner registers (unless a crashed owner already did) and writes the number into the
   * claim. A version refused for what it is (too large, invalid) is never stored: the claim is
   * dropped at once, so a retry with the same key is not kept waiting for it to go stale.
   */
  private async completeClaim(
    model: string,
    key: string,
    claim: { doc: z.infer<typeof registrationClaimSchema>; etag: string },
    build: (version: number) => ModelVersion,
  ): Promise<RegisteredVersion> {
    const { models } = await this.containers();
    const { id } = claim.doc;
    let registered: RegisteredVersion;
    try {
      const earlier = await this.query(
        'models',
        model,
        "SELECT * FROM c WHERE c.modelName = @model AND c.docType = 'version' AND c.registrationKey = @key",
        [{ name: '@key', value: key }],
      );
      registered = earlier[0]
        ? { ...(await this.getVersion(model, fromRead(versionDocumentSchema, earlier[0]).version))!, created: false }
        : { ...(await this.storeNextVersion(model, (n) => ({ ...build(n), registrationKey: key }))), created: true };
    } catch (error) {
      if (isDomainError(error)) {
        await models.item(id, model).delete({ accessCondition: { type: 'IfMatch', condition: claim.etag } }).catch(() => undefined);
      }
      throw error;
    }
    await models.item(id, model).replace(forWrite(registrationClaimSchema, { ...claim.doc, version: registered.value.version }));
    return registered;
  }

  private async storeNextVersion(model: string, build: (version: number) => ModelVersion): Promise<Versioned<ModelVersion>> {
    const { models } = await this.containers();
    let candidate = (await this.highestVersion(model)) + 1;
    for (let attempt = 0; attempt < MAX_REGISTRATION_ATTEMPTS; attempt++, candidate++) {
      const version = build(candidate);
      if (version.version !== candidate || version.modelName !== model) {
        throw new Error(`registerVersion: build(${candidate}) returned ${version.modelName} v${version.version}`);
      }
      const doc = forWrite(versionDocumentSchema, { ...version, id: versionDocId(candidate), docType: 'version' });
      let etag: string | undefined;
      try {
        ({ etag } = await writingItem(described(doc), () => models.items.create(doc)));
      } catch (error) {
        // 409: another registration holds this number; the next one may be free.
        if (cosmosStatus(error) === 409) continue;
        throw error;
      }
      await this.raiseLatestVersion(model, candidate);
      return { value: toModelVersion(doc), etag: required(etag) };
    }
    throw errors.concurrencyConflict(`could not find a free version number for '${model}'`, { model });
  }

  async getVersion(model: string, version: number): Promise<Versioned<ModelVersion> | undefined> {
    const found = await this.read(versionDocId(version), model);
    return found && { value: toModelVersion(fromRead(versionDocumentSchema, found.resource)), etag: found.etag };
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    const resources = await this.query(
      'models',
      model,
      "SELECT * FROM c WHERE c.modelName = @model AND c.docType = 'version' ORDER BY c.version",
    );
    return resources.map((r) => toModelVersion(fromRead(versionDocumentSchema, r)));
  }

  async listReadableVersionsInState(model: string, state: LifecycleState): Promise<VersionListing> {
    // Spelled out: Cosmos compares a state of another type as undefined, never true, so a damaged
    // one that may be `state` is asked for as "not text, or no known state". Ordered here, not by
    // the query: a damaged `version` must not drop its document from an ORDER BY.
    const known = LIFECYCLE_STATES.map((value, i) => ({ name: `@known${i}`, value }));
    const resources = await this.query(
      'models',
      model,
      `SELECT * FROM c WHERE c.modelName = @model AND c.docType = 'version' AND (c.state = @state OR NOT IS_STRING(c.state) OR NOT (c.state IN (${known.map((k) => k.name).join(', ')})))`,
      [{ name: '@state', value: state }, ...known],
    );
    const listing: VersionListing = { versions: [], unreadable: [] };
    for (const resource of resources) {
      const parsed = versionDocumentSchema.safeParse(resource);
      // One that reads has a known state, so the query found it by `state`.
      if (parsed.success) listing.versions.push(toModelVersion(parsed.data));
      else listing.unreadable.push(unreadableVersion(resource, parsed.error));
    }
    listing.versions.sort((a, b) => a.version - b.version);
    listing.unreadable.sort(byVersionNumber);
    return listing;
  }

  async replaceVersion(version: ModelVersion, etag: string): Promise<Versioned<ModelVersion>> {
    const doc = forWrite(versionDocumentSchema, { ...version, id: versionDocId(version.version), docType: 'version' });
    const { models } = await this.containers();
    try {
      const response = await writingItem(described(doc), () =>
        models.item(doc.id, doc.modelName).replace(doc, { accessCondition: { type: 'IfMatch', condition: etag } }),
      );
      return { value: toModelVersion(doc), etag: required(response.etag) };
    } catch (error) {
      const status = cosmosStatus(error);
      if (status === 412) {
        throw errors.concurrencyConflict(`version ${version.version} of '${version.modelName}' changed since it was read`, {
          model: version.modelName,
          version: version.version,
        });
      }
      if (status === 404) throw errors.versionNotFound(version.modelName, version.version);
      throw error;
    }
  }

  async getChampion(model: string): Promise<Versioned<ChampionPointer> | undefined> {
    const found = await this.read(CHAMPION_DOC_ID, model);
    if (!found) return undefined;
    const { id: _id, docType: _docType, ...pointer } = fromRead(championDocumentSchema, found.resource);
    return { value: pointer, etag: found.etag };
  }

  async swapChampion(pointer: ChampionPointer, etag: string | undefined): Promise<Versioned<ChampionPointer>> {
    const doc = forWrite(championDocumentSchema, { ...pointer, id: CHAMPION_DOC_ID, docType: 'champion' });
    const { models } = await this.containers();
    try {
      const response = await writingItem(described(doc), () =>
        etag === undefined
          ? models.items.create(doc)
          : models.item(CHAMPION_DOC_ID, doc.modelName).replace(doc, { accessCondition: { type: 'IfMatch', condition: etag } }),
      );
      return { value: pointer, etag: required(response.etag) };
    } catch (error) {
      const status = cosmosStatus(error);
      if (status === 409 || status === 412 || (status === 404 && etag !== undefined)) {
        throw errors.concurrencyConflict(`the champion of '${pointer.modelName}' changed since it was read`, {
          model: pointer.modelName,
        });
      }
      throw error;
    }
  }

  async appendAudit(event: AuditEvent): Promise<boolean> {
    const doc = forWrite(auditEventSchema, event);
    const { audit } = await this.containers();
    try {
      await writingItem(described(doc), () => audit.items.create(doc));
      return true;
    } catch (error) {
      if (cosmosStatus(error) === 409) return false;
      throw error;
    }
  }

  async hasAudit(model: string, id: string): Promise<boolean> {
    const { audit } = await this.containers();
    const response = await audit.item(id, model).read<ItemDefinition>();
    return response.statusCode !== 404 && response.resource !== undefined;
  }

  async listAudit(model: string, filter: { kind?: AuditEventKind; version?: number } = {}): Promise<AuditEvent[]> {
    const conditions = ['c.modelName = @model'];
    const parameters: SqlParameter[] = [];
    if (filter.kind !== undefined) {
      conditions.push('c.kind = @kind');
      parameters.push({ name: '@kind', value: filter.kind });
    }
    if (filter.version !== undefined) {
      conditions.push('c.version = @version');
      parameters.push({ name: '@version', value: filter.version });
    }
    const resources = await this.query('audit', model, `SELECT * FROM c WHERE ${conditions.join(' AND ')}`, parameters);
    return resources.map((r) => fromRead(auditEventSchema, r)).sort(compareLedgerEntries);
  }

  async listAuditPage(model: string, page: PageRequest & AuditFilter): Promise<AuditPage> {
    checkPageSize(page.limit);
    const { limit, after } = page;
    const filter = auditConditions(page);
    // A key without a time (another list's) is past every entry: the ledger's entries all have one.
    const entries = after === undefined || after.at === null ? [] : await this.restOfInstant(model, filter, { at: after.at, id: after.id });
    if (entries.length <= limit && after?.at !== null) entries.push(...(await this.auditAfter(model, filter, limit - entries.length, after?.at)));
    const more = entries.length > limit;
    entries.splice(limit);
    const last = entries.at(-1);
    if (more && last) return { entries, next: { at: last.at, id: last.id } };
    await this.failOnUntimedAudit(model, filter);
    return { entries, next: null };
  }

  /** The entries of the key's instant after the key's entry (none when it names no entry there), in the ledger's order. */
  private async restOfInstant(model: string, filter: SqlFilter, key: { at: string; id: string }): Promise<AuditEvent[]> {
    const instant = await this.auditAt(model, filter, key.at);
    const keyed = instant.findIndex((e) => e.id === key.id);
    return keyed >= 0 ? instant.slice(keyed + 1) : [];
  }

  /**
   * The first `room` entries stamped after `afterAt` (from the first when absent) and at least one
   * more when there are more, in the ledger's order. The store orders entries of one instant in no
   * particular order: an instant across the page's end is read whole and put in order here.
   */
  private async auditAfter(model: string, filter: SqlFilter, room: number, afterAt?: string): Promise<AuditEvent[]> {
    const later = { where: [...filter.where, timedLedger], parameters: [...filter.parameters] };
    if (afterAt !== undefined) {
      later.where.push('c.at > @afterAt');
      later.parameters.push({ name: '@afterAt', value: afterAt });
    }
    const read = (await this.query('audit', model, `SELECT TOP ${room + 1} * FROM c WHERE ${later.where.join(' AND ')} ORDER BY c.at`, later.parameters))
      .map((r) => fromRead(auditEventSchema, r))
      .sort(compareLedgerPageOrder);
    const [last, beyond] = [read[room - 1], read[room]];
    if (!last || !beyond || last.at !== beyond.at) return read;
    return [...read.filter((e) => e.at < last.at), ...(await this.auditAt(model, filter, last.at))];
  }

  /** The model's ledger entries matching `filter` stamped `at` exactly, in the ledger's order. */
  private async auditAt(model: string, filter: SqlFilter, at: string): Promise<AuditEvent[]> {
    const resources = await this.query('audit', model, `SELECT * FROM c WHERE ${[...filter.where, 'c.at = @instant'].join(' AND ')}`, [...filter.parameters, { name: '@instant', value: at }]);
    return resources.map((r) => fromRead(auditEventSchema, r)).sort(compareLedgerPageOrder);
  }

  /** On the last page: an entry whose time cannot order the ledger is on no page, so the listing fails naming it, as listAudit would. */
  private async failOnUntimedAudit(model: string, filter: SqlFilter): Promise<void> {
    const [untimed] = await this.query('audit', model, `SELECT TOP 1 * FROM c WHERE ${[...filter.where, `NOT ${timedLedger}`].join(' AND ')}`, filter.parameters);
    if (untimed === undefined) return;
    fromRead(auditEventSchema, untimed);
    throw new Error(`stored registry document ${String((untimed as { id?: unknown }).id)} has an 'at' longer than ${MAX_PAGE_TIME_LENGTH} characters: it cannot order the ledger`);
  }

  async championAt(model: string, at: string): Promise<number | null> {
    // One champion_changed entry per promotion or rollback: few enough to read them all and let
    // the pure rule decide, which is independent of how timestamps compare as strings.
    const events = (await this.listAudit(model, { kind: 'champion_changed' })) as ChampionChangedEvent[];
    return championAtFromEvents(events, at);
  }

  private async highestVersion(model: string): Promise<number> {
    const resources = await this.query(
      'models',
      model,
      "SELECT TOP 1 VALUE c.version FROM c WHERE c.modelName = @model AND c.docType = 'version' ORDER BY c.version DESC",
    );
    const top = resources[0];
    return typeof top === 'number' ? top : 0;
  }

  /** Raises the model's `latestVersion` to at least `version` (a monotonic max under ETags). */
  private async raiseLatestVersion(model: string, version: number): Promise<void> {
    const { models } = await this.containers();
    for (let attempt = 0; attempt < MAX_LATEST_VERSION_ATTEMPTS; attempt++) {
      const found = await this.read(MODEL_DOC_ID, model);
      if (!found) throw errors.modelNotFound(model);
      const current = fromRead(modelDocumentSchema, found.resource);
      if (current.latestVersion >= version) return;
      const next = forWrite(modelDocumentSchema, { ...current, latestVersion: version });
      try {
        await writingItem(described(next), () => models.item(MODEL_DOC_ID, model).replace(next, { accessCondition: { type: 'IfMatch', condition: found.etag } }));
        return;
      } catch (error) {
        if (cosmosStatus(error) !== 412) throw error;
      }
    }
    throw errors.concurrencyConflict(`could not record version ${version} as the latest of '${model}'`, { model, version });
  }

  private async read(id: string, model: string): Promise<{ resource: unknown; etag: string } | undefined> {
    const { models } = await this.containers();
    const response = await models.item(id, model).read<ItemDefinition>();
    if (response.statusCode === 404 || response.resource === undefined) return undefined;
    return { resource: response.resource, etag: required(response.etag) };
  }

  private async query(
    container: 'models' | 'audit',
    model: string,
    query: string,
    parameters: SqlParameter[] = [],
  ): Promise<unknown[]> {
    const target: Container = (await this.containers())[container];
    const { resources } = await target.items
      .query<unknown>({ query, parameters: [{ name: '@model', value: model }, ...parameters] }, { partitionKey: model })
      .fetchAll();
    return resources;
  }
}

/** The registry over the process's Cosmos client. */
export function cosmosModelRegistry(): CosmosModelRegistry {
  return new CosmosModelRegistry();
}

/** A document as it will be written: parsed, and no larger than Cosmos DB takes (PAYLOAD_TOO_LARGE). */
function forWrite<S extends z.ZodType>(schema: S, doc: unknown): z.infer<S> {
  const parsed: z.infer<S> = parseOrThrow(schema, doc, 'registry document (before it was written)');
  checkDocumentSize(parsed, described(parsed));
  return parsed;
}

/** How an error names a document: its id and model (a ledger entry's id says both). */
function described(doc: unknown): string {
  const { id, modelName, docType } = (doc ?? {}) as { id?: unknown; modelName?: unknown; docType?: unknown };
  return docType === undefined ? `the ledger entry '${String(id)}'` : `the registry document '${String(id)}' of '${String(modelName)}'`;
}

function fromRead<S extends z.ZodType>(schema: S, resource: unknown): z.infer<S> {
  const parsed = schema.safeParse(resource);
  if (!parsed.success) {
    const id = (resource as { id?: unknown } | undefined)?.id;
    throw new Error(`stored registry document ${String(id)} is invalid:\n${formatIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** A stored model document into the listing: the record, or (when it does not read) its name and why. */
function addModelTo(listing: ModelListing, resource: unknown): void {
  const parsed = modelDocumentSchema.safeParse(resource);
  if (parsed.success) listing.models.push(toModelRecord(parsed.data));
  else listing.unreadable.push({ modelName: storedModelName(resource), reason: `its stored model document is invalid: ${formatIssues(parsed.error)}`.slice(0, 2000) });
}

/**
 * A version document that does not read, by the number of the key it is stored under
 * (`version-00000003`), else of its stored `version`; when neither tells one, the reason names the
 * stored id.
 */
function unreadableVersion(resource: unknown, error: z.ZodError): UnreadableVersion {
  const { id, version } = (resource ?? {}) as { id?: unknown; version?: unknown };
  const keyed = Number(typeof id === 'string' ? /^version-(\d{1,15})$/.exec(id)?.[1] : undefined);
  const number = [keyed, version].find((n): n is number => versionNumberSchema.safeParse(n).success) ?? null;
  const named = number === null ? ` '${String(id)}' (its number cannot be told)` : '';
  return { version: number, reason: `its stored version document${named} is invalid: ${formatIssues(error)}`.slice(0, 2000) };
}

/** Unreadable versions by number, those whose number cannot be told last. */
function byVersionNumber(a: UnreadableVersion, b: UnreadableVersion): number {
  return (a.version ?? Infinity) - (b.version ?? Infinity) || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0);
}

function checkPageSize(limit: number): void {
  if (!(Number.isInteger(limit) && limit >= 1)) throw errors.validation(`a page holds a whole number of entries, at least 1, not ${limit}`);
}

/** A ledger entry's `at` can order a page: text, short enough to carry in a page's key. */
const timedLedger = `(IS_STRING(c.at) AND LENGTH(c.at) <= ${MAX_PAGE_TIME_LENGTH})`;

/** Conditions of a query (ANDed) and their parameters. */
interface SqlFilter {
  where: string[];
  parameters: SqlParameter[];
}

/** The query conditions of a ledger filter (the model's first); times compared as the app writes them. */
function auditConditions(filter: AuditFilter): SqlFilter {
  const where: string[] = [];
  const parameters: SqlParameter[] = [];
  const add = (condition: string, name: string, value: string | number) => {
    where.push(condition);
    parameters.push({ name, value });
  };
  if (filter.kind !== undefined) add('c.kind = @kind', '@kind', filter.kind);
  if (filter.version !== undefined) add('c.version = @version', '@version', filter.version);
  if (filter.from !== undefined) add('c.at >= @from', '@from', ledgerTimeBound(filter.from));
  if (filter.to !== undefined) add('c.at <= @to', '@to', ledgerTimeBound(filter.to));
  return { where: ['c.modelName = @model', ...where], parameters };
}

/** The partition key of a document that did not parse: the name to report it under. */
function storedModelName(resource: unknown): string {
  const name = (resource as { modelName?: unknown } | null)?.modelName;
  return typeof name === 'string' ? name : '(no modelName)';
}

function toModelRecord(doc: z.infer<typeof modelDocumentSchema>): ModelRecord {
  const { id: _id, docType: _docType, ...record } = doc;
  return record;
}

function toModelVersion(doc: z.infer<typeof versionDocumentSchema>): ModelVersion {
  const { id: _id, docType: _docType, ...version } = doc;
  return version;
}

function required(etag: string | undefined): string {
  if (!etag) throw new Error('Cosmos DB answered without an ETag');
  return etag;
}
