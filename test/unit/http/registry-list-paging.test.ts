/**
 * GET /models and GET /models/{model}/audit a page at a time: ?limit= and ?continuationToken=,
 * continuationToken and nextLink in the answer, the audit filters applied before paging.
 */
import { emptyChampion } from '../../../shared/domain/lifecycle';
import { continuationTokenOf, DEFAULT_PAGE_SIZE } from '../../../shared/schemas/paging';
import { type AuditEvent, type ModelRecord, modelRecordSchema } from '../../../shared/schemas/registry';
import { RegistryUseCases } from '../../../shared/usecases/registry';
import { callRoute } from '../../support/api-route';
import { aModelDefinition, anActor, aTransitionEntry, sha } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { RecordingPublisher } from '../../support/recording-publisher';

const mockStore = new InMemoryModelRegistry();
const mockUseCases = new RegistryUseCases({ registry: mockStore, clock: { now: () => new Date('2026-04-01T00:00:00.000Z') }, events: new RecordingPublisher() });
jest.mock('../../../shared/composition', () => ({ registry: () => mockUseCases, registryStore: () => mockStore }));
import '../../../functions/http/models';
import '../../../functions/http/champion';

const alice = anActor({ id: 'alice@example.com' });
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const secondsAt = (s: number) => new Date(T0 + s * 1000).toISOString();

const aModelRecord = (modelName: string): ModelRecord =>
  modelRecordSchema.parse({ modelName, definition: aModelDefinition({ name: modelName }), createdAt: secondsAt(0), updatedAt: secondsAt(0), createdBy: alice.id, latestVersion: 1 });

const transition = (model: string, version: number, revision: number, seconds: number): AuditEvent => aTransitionEntry(model, version, revision, secondsAt(seconds));

interface Page {
  entries: Array<Record<string, unknown>>;
  unreadable: Array<{ name: string }>;
  continuationToken: string | null;
  nextLink: string | null;
}

/** Every page from `path`, following nextLink as a client would. */
async function walk(name: 'listModels' | 'getAudit', path: string, params: Record<string, string> = {}): Promise<Page[]> {
  const pages: Page[] = [];
  let next: string | null = path;
  while (next !== null) {
    const answer = await callRoute(name, next, params);
    expect(answer.status).toBe(200);
    const body = answer.body as Omit<Page, 'entries'> & { models?: Page['entries']; entries?: Page['entries'] };
    pages.push({ entries: body.models ?? body.entries ?? [], unreadable: body.unreadable ?? [], continuationToken: body.continuationToken, nextLink: body.nextLink });
    next = body.nextLink;
    expect(pages.length).toBeLessThan(200);
  }
  return pages;
}

const MODELS = ['demand', 'churn', 'b-2', 'b-10', 'a0', 'zeta', 'mid'];
const SORTED = [...MODELS].sort((a, b) => (a < b ? -1 : 1));
// The ledger of demand: entries of one instant across page ends (by kind, then id with numbers as numbers).
const LEDGER = ['demand:created', 'demand:v1:r0', 'demand:v1:r1', 'demand:v2:r0', 'demand:champion:1', 'demand:v2:r9', 'demand:v2:r10', 'demand:v1:r2', 'demand:v2:r11'];

beforeAll(async () => {
  for (const name of MODELS) await mockStore.createModel(aModelRecord(name));
  await mockStore.swapChampion({ ...emptyChampion('demand', secondsAt(5)), version: 1, epoch: 1 }, undefined);
  const entries: AuditEvent[] = [
    transition('demand', 2, 10, 5),
    { id: 'demand:champion:1', kind: 'champion_changed', modelName: 'demand', epoch: 1, from: null, to: 1, cause: 'promote', actor: alice, at: secondsAt(5) },
    transition('demand', 2, 9, 5),
    { id: 'demand:v2:r0', kind: 'version_registered', modelName: 'demand', version: 2, actor: alice, at: secondsAt(5), artifactSha256: sha('v2') },
    transition('demand', 1, 1, 3),
    { id: 'demand:created', kind: 'model_created', modelName: 'demand', actor: alice, at: secondsAt(0) },
    { id: 'demand:v1:r0', kind: 'version_registered', modelName: 'demand', version: 1, actor: alice, at: secondsAt(1), artifactSha256: sha('v1') },
    transition('demand', 1, 2, 8),
    transition('demand', 2, 11, 9),
    transition('churn', 1, 1, 4),
  ];
  for (const e of entries) await mockStore.appendAudit(e);
  for (let n = 0; n < DEFAULT_PAGE_SIZE + 3; n++) await mockStore.appendAudit(transition('mid', 1, n + 1, n));
});

describe('GET /models a page at a time', () => {
  it('when models are walked with ?limit=3, then every model comes once by name, pages of 3 but the last, whose token and link are null', async () => {
    const pages = await walk('listModels', '/api/models?limit=3');
    expect(pages.map((p) => p.entries.map((m) => m.name))).toEqual([SORTED.slice(0, 3), SORTED.slice(3, 6), SORTED.slice(6)]);
    expect(pages.at(-1)).toMatchObject({ continuationToken: null, nextLink: null });
    for (const page of pages.slice(0, -1)) expect(page.nextLink).toBe(`/api/models?limit=3&continuationToken=${page.continuationToken}`);
    expect(pages.flatMap((p) => p.entries).find((m) => m.name === 'demand')).toMatchObject({ champion: 1, latestVersion: 1 });
  });

  it('when no limit is given, then one page holds them all and has no next page', async () => {
    expect((await callRoute('listModels', '/api/models', {})).body).toMatchObject({ models: SORTED.map((name) => ({ name })), unreadable: [], continuationToken: null, nextLink: null });
  });

  it('when model documents do not read, then each is listed once apart on the page its name falls on, counted toward the limit, and paging goes on', async () => {
    mockStore.unreadableModels.set('c-damaged', 'task: invalid');
    mockStore.unreadableModels.set('zz-damaged', 'createdAt: invalid');
    try {
      for (const limit of [1, 2, 4]) {
        const pages = await walk('listModels', `/api/models?limit=${limit}`);
        expect(pages.flatMap((p) => p.entries.map((m) => m.name))).toEqual(SORTED);
        expect(pages.flatMap((p) => p.unreadable.map((u) => u.name))).toEqual(['c-damaged', 'zz-damaged']);
        expect(pages.slice(0, -1).every((p) => p.entries.length + p.unreadable.length === limit)).toBe(true);
      }
      const [first] = await walk('listModels', '/api/models?limit=4');
      expect(first).toMatchObject({ unreadable: [{ name: 'c-damaged', reason: expect.stringContaining('task') }] });
    } finally {
      mockStore.unreadableModels.clear();
    }
  });

  it('when the limit is not a whole number from 1 to 1000, or the token is not one the API answered, then 400 naming the parameter', async () => {
    for (const limit of ['0', '1001', '-1', 'ten', '01']) {
      expect(await callRoute('listModels', `/api/models?limit=${limit}`, {})).toMatchObject({ status: 400, body: { detail: expect.stringMatching(/→ at limit$/) } });
    }
    for (const token of ['not a token!', Buffer.from(JSON.stringify({ id: 'churn' })).toString('base64url'), Buffer.from(JSON.stringify({ at: null, id: 'churn', x: 1 })).toString('base64url')]) {
      expect(await callRoute('listModels', `/api/models?continuationToken=${encodeURIComponent(token)}`, {})).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_ERROR', detail: expect.stringMatching(/not a continuation token this API answered.*\n\s*→ at continuationToken$/) },
      });
    }
    expect((await callRoute('listModels', '/api/models?limit=1000', {})).body.models).toHaveLength(MODELS.length);
    expect((await callRoute('listModels', '/api/models?foo=1', {})).status).toBe(400);
  });

  it('when a well-formed token names a place, then the page starts after that name', async () => {
    const token = continuationTokenOf({ at: null, id: 'churn' });
    expect((await callRoute('listModels', `/api/models?limit=2&continuationToken=${token}`, {})).body).toMatchObject({ models: [{ name: 'demand' }, { name: 'mid' }] });
  });
});

describe('GET /models/{model}/audit a page at a time', () => {
  const audit = (search = '') => walk('getAudit', `/api/models/demand/audit${search}`, { model: 'demand' });
  const ids = (pages: Page[]) => pages.flatMap((p) => p.entries.map((e) => e.id));

  it('when the ledger is walked at any page size, then every entry comes once, oldest first, also where an instant spans a page end', async () => {
    for (const limit of [1, 2, 3, 4, 8, 9, 10]) {
      const pages = await audit(`?limit=${limit}`);
      expect(ids(pages)).toEqual(LEDGER);
      expect(pages.map((p) => p.entries.length)).toEqual([...Array<number>(Math.floor(LEDGER.length / limit)).fill(limit), ...(LEDGER.length % limit ? [LEDGER.length % limit] : [])]);
      expect(pages.at(-1)).toMatchObject({ continuationToken: null, nextLink: null });
    }
    expect(ids(await audit())).toEqual((await mockUseCases.auditLog('demand')).map((e) => e.id));
  });

  it('when no limit is given, then a page holds 100 entries and the next link leads on', async () => {
    const first = (await callRoute('getAudit', '/api/models/mid/audit', { model: 'mid' })).body;
    expect(first.entries).toHaveLength(DEFAULT_PAGE_SIZE);
    expect(first.nextLink).toBe(`/api/models/mid/audit?continuationToken=${first.continuationToken as string}`);
    const pages = await walk('getAudit', '/api/models/mid/audit', { model: 'mid' });
    expect(pages.map((p) => p.entries.length)).toEqual([DEFAULT_PAGE_SIZE, 3]);
    expect(new Set(ids(pages)).size).toBe(DEFAULT_PAGE_SIZE + 3);
  });

  it('when ?version= and ?from=&to= are given, then they apply before paging: full pages but the last, the next link keeps them', async () => {
    const versioned = await audit('?version=2&limit=2');
    expect(versioned.map((p) => p.entries.map((e) => e.id))).toEqual([['demand:v2:r0', 'demand:v2:r9'], ['demand:v2:r10', 'demand:v2:r11']]);
    expect(versioned[0]!.nextLink).toBe(`/api/models/demand/audit?version=2&limit=2&continuationToken=${versioned[0]!.continuationToken}`);
    // Inclusive bounds, one written with an offset: the instant of second 5 is in, second 8 is in, 9 is out.
    const ranged = await audit(`?from=${encodeURIComponent('2026-03-01T01:00:05+01:00')}&to=${encodeURIComponent(secondsAt(8))}&limit=2`);
    expect(ids(ranged)).toEqual(['demand:v2:r0', 'demand:champion:1', 'demand:v2:r9', 'demand:v2:r10', 'demand:v1:r2']);
    expect(ranged.slice(0, -1).every((p) => p.entries.length === 2)).toBe(true);
    expect(ranged[0]!.nextLink).toContain(`to=${encodeURIComponent(secondsAt(8))}`);
    expect(ids(await audit(`?from=${encodeURIComponent(secondsAt(5.5))}&to=${encodeURIComponent(secondsAt(7))}`))).toEqual([]);
    expect((await callRoute('getAudit', `/api/models/demand/audit?from=${encodeURIComponent(secondsAt(9))}&to=${encodeURIComponent(secondsAt(8))}`, { model: 'demand' })).status).toBe(400);
  });

  it('when the limit or the token is not one the API takes, then 400 naming it; an unknown model is 404', async () => {
    for (const limit of ['0', '1001', '1.5', '']) {
      expect(await callRoute('getAudit', `/api/models/demand/audit?limit=${limit}`, { model: 'demand' })).toMatchObject({ status: 400, body: { detail: expect.stringMatching(/→ at limit$/) } });
    }
    const [first] = await audit('?limit=2');
    const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(first!.continuationToken!, 'base64url').toString('utf8')), kind: 'transition' })).toString('base64url');
    for (const token of [first!.continuationToken!.slice(0, -3) + '!!!', tampered, Buffer.from('{"at":').toString('base64url')]) {
      expect(await callRoute('getAudit', `/api/models/demand/audit?continuationToken=${encodeURIComponent(token)}`, { model: 'demand' })).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_ERROR', detail: expect.stringMatching(/not a continuation token this API answered.*\n\s*→ at continuationToken$/) },
      });
    }
    expect((await callRoute('getAudit', '/api/models/nobody/audit', { model: 'nobody' })).status).toBe(404);
  });
});
