import { randomBytes } from 'node:crypto';

import type { AuditFilter, ModelPage, ModelRegistry } from '../../shared/ports/model-registry';
import type { PageKey } from '../../shared/schemas/paging';
import { type AuditEvent, type ModelRecord, modelRecordSchema } from '../../shared/schemas/registry';
import { aModelDefinition, anActor, aTransitionEntry, sha } from '../support/builders';

const alice = anActor({ id: 'alice@example.com' });
const T0 = Date.parse('2026-02-01T00:00:00.000Z');
/** An ISO time `seconds` after T0, as the app writes times. */
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/**
 * The paged listings of the ModelRegistry port (listModelsPage, listAuditPage): every entry once
 * across the pages, in the full listing's order, ties on the sort key across a page's end, filters
 * before paging. Run against every implementation; models have random names, so the suite also runs
 * against a shared database (whose other models may sit between pages).
 */
export function describeModelRegistryPagingContract(name: string, makeRegistry: () => ModelRegistry): void {
  describe(`ModelRegistry paging contract: ${name}`, () => {
    let registry: ModelRegistry;
    beforeEach(() => {
      registry = makeRegistry();
    });

    const aModelName = (prefix = 'p') => `${prefix}-${randomBytes(5).toString('hex')}`;
    const aModelRecord = (modelName: string): ModelRecord =>
      modelRecordSchema.parse({ modelName, definition: aModelDefinition({ name: modelName }), createdAt: at(0), updatedAt: at(0), createdBy: alice.id, latestVersion: 0 });

    describe('models', () => {
      /** The pages from just before `prefix` while they hold names with it, at `limit` a page. */
      async function pagesOf(prefix: string, limit: number, between?: (page: ModelPage) => Promise<void>): Promise<ModelPage[]> {
        const pages: ModelPage[] = [];
        let after: PageKey | undefined = { at: null, id: prefix };
        while (after !== undefined) {
          const page = await registry.listModelsPage({ limit, after });
          pages.push(page);
          expect(page.models.length + page.unreadable.length).toBeLessThanOrEqual(limit);
          const names = page.models.map((m) => m.modelName);
          after = page.next !== null && names.every((n) => n.startsWith(prefix)) ? page.next : undefined;
          await between?.(page);
          expect(pages.length).toBeLessThan(50);
        }
        return pages;
      }
      const namesOf = (pages: ModelPage[], prefix: string) => pages.flatMap((p) => p.models.map((m) => m.modelName)).filter((n) => n.startsWith(prefix));

      it('when models are listed a page at a time, then each comes once, by name as text compares, and a full page names the next', async () => {
        const prefix = aModelName();
        const names = ['b', 'a-2', 'a', 'a0', 'c', 'a-10', 'b1'].map((suffix) => `${prefix}-${suffix}`);
        for (const n of names) await registry.createModel(aModelRecord(n));
        const expected = [...names].sort((a, b) => (a < b ? -1 : 1));
        for (const limit of [1, 2, 3, 7]) {
          const pages = await pagesOf(prefix, limit);
          expect(namesOf(pages, prefix)).toEqual(expected);
          for (const page of pages.slice(0, -1)) {
            expect(page.models).toHaveLength(limit);
            expect(page.next).toEqual({ at: null, id: page.models.at(-1)?.modelName });
          }
        }
        // The same order as the full listing.
        expect((await registry.listModels()).models.map((m) => m.modelName).filter((n) => n.startsWith(prefix))).toEqual(expected);
      });

      it('when the first page is asked for, then it starts from the first names, in order', async () => {
        const first = aModelName('a');
        await registry.createModel(aModelRecord(first));
        const page = await registry.listModelsPage({ limit: 1000 });
        const names = [...page.models.map((m) => m.modelName), ...page.unreadable.map((u) => u.modelName)];
        // Names start with a letter: one starting 'a-' is among the first of any database this suite shares.
        expect(names).toContain(first);
        expect(page.models.map((m) => m.modelName)).toEqual(page.models.map((m) => m.modelName).sort((a, b) => (a < b ? -1 : 1)));
      });

      it('when the last page is read, then next is null', async () => {
        const prefix = aModelName('zzzz');
        await registry.createModel(aModelRecord(`${prefix}-a`));
        const last = await registry.listModelsPage({ limit: 1000, after: { at: null, id: prefix } });
        expect(last.models.map((m) => m.modelName)).toContain(`${prefix}-a`);
        expect(last.next).toBeNull();
      });

      it('when a model is created between pages after the page read, then a later page lists it; every other model still comes once', async () => {
        const prefix = aModelName();
        for (const s of ['a', 'c', 'e']) await registry.createModel(aModelRecord(`${prefix}-${s}`));
        let created = false;
        const pages = await pagesOf(prefix, 1, async () => {
          if (created) return;
          created = true;
          await registry.createModel(aModelRecord(`${prefix}-d`));
        });
        expect(namesOf(pages, prefix)).toEqual(['a', 'c', 'd', 'e'].map((s) => `${prefix}-${s}`));
      });

      it('when a page size is not a whole number of at least 1, then VALIDATION_ERROR', async () => {
        for (const limit of [0, -1, 1.5, Number.NaN]) await expect(registry.listModelsPage({ limit })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      });
    });

    describe('audit ledger', () => {
      async function aModel(): Promise<string> {
        const modelName = aModelName('l');
        await registry.createModel(aModelRecord(modelName));
        return modelName;
      }
      const created = (model: string, seconds: number): AuditEvent => ({ id: `${model}:created`, kind: 'model_created', modelName: model, actor: alice, at: at(seconds) });
      const registered = (model: string, version: number, seconds: number): AuditEvent => ({
        id: `${model}:v${version}:r0`,
        kind: 'version_registered',
        modelName: model,
        version,
        actor: alice,
        at: at(seconds),
        artifactSha256: sha(`artifact ${version}`),
      });
      const transition = (model: string, version: number, revision: number, seconds: number): AuditEvent => aTransitionEntry(model, version, revision, at(seconds));
      const championChange = (model: string, epoch: number, to: number, seconds: number): AuditEvent => ({
        id: `${model}:champion:${epoch}`,
        kind: 'champion_changed',
        modelName: model,
        epoch,
        from: null,
        to,
        cause: 'promote',
        actor: alice,
        at: at(seconds),
      });

      /** A ledger with runs of entries stamped at one instant (ordered there by kind, then id with numbers as numbers), appended out of order. */
      async function aLedger(): Promise<string> {
        const model = await aModel();
        const entries = [
          transition(model, 2, 10, 5),
          championChange(model, 1, 2, 5),
          transition(model, 2, 9, 5),
          registered(model, 2, 5),
          transition(model, 1, 2, 3),
          transition(model, 1, 1, 3),
          created(model, 0),
          registered(model, 1, 1),
          transition(model, 2, 11, 5),
          transition(model, 1, 3, 8),
          championChange(model, 2, 1, 9),
          transition(model, 2, 12, 9),
        ];
        for (const e of entries) await registry.appendAudit(e);
        return model;
      }

      /** Every page of the ledger with `filter`, at `limit` a page, following `next`. */
      async function walk(model: string, limit: number, filter: AuditFilter = {}): Promise<AuditEvent[][]> {
        const pages: AuditEvent[][] = [];
        let after: PageKey | undefined;
        do {
          const page = await registry.listAuditPage(model, { limit, ...filter, ...(after ? { after } : {}) });
          pages.push(page.entries);
          expect(page.entries.length).toBeLessThanOrEqual(limit);
          if (page.next !== null) {
            expect(page.entries).toHaveLength(limit);
            expect(page.next).toEqual({ at: page.entries.at(-1)?.at, id: page.entries.at(-1)?.id });
          }
          after = page.next ?? undefined;
          expect(pages.length).toBeLessThan(50);
        } while (after !== undefined);
        return pages;
      }

      it('when the ledger is read a page at a time, then each entry comes once in listAudit order, also where an instant spans a page end', async () => {
        const model = await aLedger();
        const full = (await registry.listAudit(model)).map((e) => e.id);
        expect(full).toHaveLength(12);
        expect(full.slice(0, 9)).toEqual(['created', 'v1:r0', 'v1:r1', 'v1:r2', 'v2:r0', 'champion:1', 'v2:r9', 'v2:r10', 'v2:r11'].map((s) => `${model}:${s}`));
        for (const limit of [1, 2, 3, 4, 5, 11, 12, 13]) {
          const pages = await walk(model, limit);
          expect(pages.flat().map((e) => e.id)).toEqual(full);
          expect(pages).toHaveLength(Math.max(1, Math.ceil(full.length / limit)));
        }
      });

      it('when filters are given, then they apply before paging: pages are full and together are the filtered ledger', async () => {
        const model = await aLedger();
        await registry.appendAudit(transition(await aModel(), 2, 1, 5));
        const ids = (pages: AuditEvent[][]) => pages.flat().map((e) => e.id.slice(model.length + 1));
        expect(ids(await walk(model, 2, { version: 2 }))).toEqual(['v2:r0', 'v2:r9', 'v2:r10', 'v2:r11', 'v2:r12']);
        expect(ids(await walk(model, 2, { kind: 'champion_changed' }))).toEqual(['champion:1', 'champion:2']);
        // from and to are inclusive; a bound written with an offset or without milliseconds is the same instant.
        expect(ids(await walk(model, 3, { from: at(3), to: at(5) }))).toEqual(['v1:r1', 'v1:r2', 'v2:r0', 'champion:1', 'v2:r9', 'v2:r10', 'v2:r11']);
        expect(ids(await walk(model, 1, { from: '2026-02-01T01:00:05+01:00', to: '2026-02-01T00:00:08Z', version: 2 }))).toEqual(['v2:r0', 'v2:r9', 'v2:r10', 'v2:r11']);
        expect(ids(await walk(model, 1, { from: at(5.001), to: at(8.999) }))).toEqual(['v1:r3']);
        expect(await walk(model, 5, { version: 7 })).toEqual([[]]);
        expect(await walk(aModelName(), 5)).toEqual([[]]);
      });

      it('when an entry is appended between pages after the page read, then a later page lists it', async () => {
        const model = await aLedger();
        const first = await registry.listAuditPage(model, { limit: 6 });
        await registry.appendAudit(transition(model, 3, 1, 20));
        await registry.appendAudit(transition(model, 2, 13, 5));
        expect(first.next).not.toBeNull();
        const rest = await registry.listAuditPage(model, { limit: 100, after: first.next! });
        expect([...first.entries, ...rest.entries].map((e) => e.id)).toEqual((await registry.listAudit(model)).map((e) => e.id));
        expect(rest.entries.at(-1)?.id).toBe(`${model}:v3:r1`);
      });

      it('when a key names no entry at its time, then the page starts after that time', async () => {
        const model = await aLedger();
        const page = await registry.listAuditPage(model, { limit: 2, after: { at: at(5), id: `${model}:nothing` } });
        expect(page.entries.map((e) => e.id)).toEqual([`${model}:v1:r3`, `${model}:champion:2`]);
      });

      it('when a page size is not a whole number of at least 1, then VALIDATION_ERROR', async () => {
        const model = await aModel();
        for (const limit of [0, -1, 1.5]) await expect(registry.listAuditPage(model, { limit })).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      });
    });
  });
}
