import { randomBytes } from 'node:crypto';

import { cosmosContainers } from '../../shared/adapters/cosmos/client';
import { CosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { systemClock } from '../../shared/adapters/system-clock';
import { planPromotion } from '../../shared/domain/lifecycle';
import type { ChampionChangedEvent } from '../../shared/schemas/registry';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { aModelDefinition, aModelVersionInput, anActor, anApprover, sha, theSystem } from '../support/builders';

// The concurrency tests repeat their race five times; Jest's default of 5 s is too short for that.
jest.setTimeout(120_000);

const registry = new CosmosModelRegistry();
const useCases = new RegistryUseCases({ registry, clock: systemClock });

const alice = anActor({ id: 'alice@example.com' });
const bob = anApprover('bob@example.com');
const system = theSystem();
const evidenceOf = (version: number) => sha(`evidence-${version}`);

/** A fresh model per test, so tests and repetitions never share state. */
async function aModel(prefix = 'm'): Promise<string> {
  const name = `${prefix}-${randomBytes(5).toString('hex')}`;
  await useCases.createModel(aModelDefinition({ name }), alice);
  return name;
}

async function registered(model: string): Promise<number> {
  return (await useCases.registerVersion(model, aModelVersionInput(), alice)).version;
}

/** registered -> validating -> pending_approval -> approved. */
async function approved(model: string): Promise<number> {
  const version = await registered(model);
  await useCases.applyCommand(model, version, { type: 'start_validation' }, system);
  await useCases.applyCommand(model, version, { type: 'pass_validation', evidenceHash: evidenceOf(version) }, system);
  await useCases.applyCommand(model, version, { type: 'approve', evidenceHash: evidenceOf(version) }, bob);
  return version;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('model registry on Cosmos DB (local server)', () => {
  describe('models', () => {
    it('when a model is created, then it reads back with defaults, is listed, and the ledger records it', async () => {
      const model = await aModel();
      const record = await registry.getModel(model);
      expect(record).toMatchObject({ modelName: model, createdBy: alice.id, latestVersion: 0 });
      expect(record?.definition.policies.approval.approverRole).toBe('MLOps.Approver');
      expect((await registry.listModels()).models.map((m) => m.modelName)).toContain(model);
      expect(await registry.listAudit(model)).toEqual([
        expect.objectContaining({ id: `${model}:created`, kind: 'model_created', actor: alice }),
      ]);
    });

    it('when a stored model document no longer reads, then the other models are listed and it is listed apart with the reason', async () => {
      const readable = await aModel();
      const damaged = await aModel('damaged');
      const { models } = await cosmosContainers();
      const { resource } = await models.item('model', damaged).read<{ definition: Record<string, unknown> }>();
      await models.items.upsert({ ...resource!, definition: { ...resource!.definition, task: 'ranking' } });
      try {
        const listing = await registry.listModels();
        expect(listing.models.map((m) => m.modelName)).toContain(readable);
        expect(listing.models.map((m) => m.modelName)).not.toContain(damaged);
        expect(listing.unreadable).toEqual([{ modelName: damaged, reason: expect.stringMatching(/^its stored model document is invalid: .*task/s) }]);
      } finally {
        // Other suites list every model of this database.
        await models.item('model', damaged).delete();
      }
    });

    it('when a stored model document no longer reads, then a page of models lists it apart where its name falls and paging goes on', async () => {
      const prefix = `pg-${randomBytes(4).toString('hex')}`;
      for (const suffix of ['a', 'b', 'c']) await useCases.createModel(aModelDefinition({ name: `${prefix}-${suffix}` }), alice);
      const { models } = await cosmosContainers();
      const damaged = `${prefix}-b`;
      const { resource } = await models.item('model', damaged).read<{ definition: Record<string, unknown> }>();
      await models.items.upsert({ ...resource!, definition: { ...resource!.definition, task: 'ranking' } });
      try {
        const pages = [];
        for (let after = { at: null, id: prefix }; ; ) {
          const page = await registry.listModelsPage({ limit: 1, after });
          pages.push(page);
          if (page.next === null || !page.next.id.startsWith(prefix)) break;
          after = { at: null, id: page.next.id };
        }
        expect(pages.slice(0, 3).map((p) => [p.models.map((m) => m.modelName), p.unreadable.map((u) => u.modelName)])).toEqual([
          [[`${prefix}-a`], []],
          [[], [damaged]],
          [[`${prefix}-c`], []],
        ]);
        expect(pages[1]!.unreadable[0]!.reason).toMatch(/^its stored model document is invalid: .*task/s);
      } finally {
        await models.item('model', damaged).delete();
      }
    });

    it('when a stored ledger entry no longer reads, then a page that reads it fails naming it; one without a time fails the last page only', async () => {
      const model = await aModel();
      const { audit } = await cosmosContainers();
      const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString();
      for (let n = 1; n <= 3; n++) {
        await registry.appendAudit({ id: `${model}:v1:r${n}`, kind: 'transition', modelName: model, version: 1, revision: n, command: 'start_validation', from: 'registered', to: 'validating', actor: alice, at: at(n) });
      }
      // The model_created entry is stamped now, after these: the ledger is r1, r2, r3, created.
      await audit.items.create({ id: `${model}:timeless`, kind: 'transition', modelName: model });
      const first = await registry.listAuditPage(model, { limit: 2 });
      expect(first.entries.map((e) => e.id)).toEqual([`${model}:v1:r1`, `${model}:v1:r2`]);
      await expect(registry.listAuditPage(model, { limit: 5 })).rejects.toThrow(`${model}:timeless`);
      await audit.items.create({ id: `${model}:bad`, kind: 'transition', modelName: model, at: at(3) });
      await expect(registry.listAuditPage(model, { limit: 1, after: first.next! })).rejects.toThrow(`${model}:bad`);
      expect((await registry.listAuditPage(model, { limit: 1 })).entries.map((e) => e.id)).toEqual([`${model}:v1:r1`]);
    });

    it('when a definition is invalid, then VALIDATION_ERROR lists the problems and nothing is stored', async () => {
      const name = `bad-${randomBytes(4).toString('hex')}`;
      const error = await useCases.createModel({ ...aModelDefinition({ name }), task: 'ranking' }, alice).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { issues: [expect.objectContaining({ path: 'task' })] } });
      expect(await registry.getModel(name)).toBeUndefined();
    });
  });

  describe('versions', () => {
    it('when versions are registered, then they are numbered 1, 2 and stored with everything handed over', async () => {
      const model = await aModel();
      const input = aModelVersionInput({ lineage: { source: 'azureml', trainingRun: 'job-7', parentVersion: 1 } });
      const first = await useCases.registerVersion(model, aModelVersionInput(), alice);
      const second = await useCases.registerVersion(model, input, anActor({ id: 'pipeline' }));
      expect([first.version, second.version]).toEqual([1, 2]);
      const stored = await registry.getVersion(model, 2);
      expect(stored?.value).toMatchObject({
        ...input,
        modelName: model,
        version: 2,
        registrant: 'pipeline',
        state: 'registered',
        revision: 0,
      });
      expect((await registry.listVersions(model)).map((v) => v.version)).toEqual([1, 2]);
      expect((await registry.getModel(model))?.latestVersion).toBe(2);
    });

    it('when the model does not exist, then registering is MODEL_NOT_FOUND; a bad input is VALIDATION_ERROR', async () => {
      await expect(useCases.registerVersion('no-such-model', aModelVersionInput(), alice)).rejects.toMatchObject({
        code: 'MODEL_NOT_FOUND',
      });
      const model = await aModel();
      await expect(
        useCases.registerVersion(model, { ...aModelVersionInput(), transformSpecHash: 'abc' }, alice),
      ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      expect(await registry.listVersions(model)).toEqual([]);
    });

    it('when a command names a missing version, then VERSION_NOT_FOUND', async () => {
      const model = await aModel();
      await expect(useCases.applyCommand(model, 9, { type: 'start_validation' }, system)).rejects.toMatchObject({
        code: 'VERSION_NOT_FOUND',
      });
    });
  });

  describe('concurrency (each repeated 5 times)', () => {
    it('when 20 registrations run at once, then they get 1..20 with no gaps and no duplicates', async () => {
      for (let round = 0; round < 5; round++) {
        const model = await aModel('reg');
        const versions = await Promise.all(Array.from({ length: 20 }, () => registered(model)));
        expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect((await registry.listVersions(model)).map((v) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(await registry.listAudit(model, { kind: 'version_registered' })).toHaveLength(20);
        expect((await registry.getModel(model))?.latestVersion).toBe(20);
      }
    });

    it('when 5 updates of different policies and 5 registrations run at once, then every update lands with its own revision and entry, and every version', async () => {
      const admin = anActor({ id: 'adam@example.com', roles: ['MLOps.Admin'] });
      const patches = [
        { policies: { drift: { distanceThreshold: 0.2 } } },
        { policies: { retraining: { cooldown: 'P14D' } } },
        { policies: { approval: { timeout: 'P3D' } } },
        { policies: { performance: { tolerance: 0.2 } } },
        { owners: ['team-b'] },
      ];
      for (let round = 0; round < 5; round++) {
        const model = await aModel('upd');
        await Promise.all([...patches.map((patch) => useCases.updateModel(model, patch, admin)), ...patches.map(() => registered(model))]);
        const stored = await registry.getModel(model);
        expect(stored).toMatchObject({
          revision: 5,
          latestVersion: 5,
          definition: {
            owners: ['team-b'],
            policies: { drift: { distanceThreshold: 0.2 }, retraining: { cooldown: 'P14D' }, approval: { timeout: 'P3D' }, performance: { tolerance: 0.2 } },
          },
        });
        const entries = await registry.listAudit(model, { kind: 'model_updated' });
        expect(entries.map((e) => e.id).sort()).toEqual([1, 2, 3, 4, 5].map((r) => `${model}:updated:${r}`));
        expect(entries.flatMap((e) => (e.kind === 'model_updated' ? e.changes.map((c) => c.path) : [])).sort()).toEqual(
          ['owners', 'policies.approval.timeout', 'policies.drift.distanceThreshold', 'policies.performance.tolerance', 'policies.retraining.cooldown'],
        );
      }
    });

    it('when 10 approved versions are promoted at once, then exactly one wins and the others stay approved', async () => {
      for (let round = 0; round < 5; round++) {
        const model = await aModel('promo');
        // Odd rounds race to replace an existing champion, even rounds to create the first pointer.
        const incumbent = round % 2 === 1 ? await approved(model) : undefined;
        if (incumbent !== undefined) await useCases.applyCommand(model, incumbent, { type: 'promote' }, bob);
        const versions = await Promise.all(Array.from({ length: 10 }, () => approved(model)));
        const results = await Promise.allSettled(
          versions.map((v) => useCases.applyCommand(model, v, { type: 'promote' }, bob)),
        );
        const winners = versions.filter((_, i) => results[i]?.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
        }
        const champion = await registry.getChampion(model);
        expect(champion?.value).toMatchObject(
          incumbent === undefined
            ? { version: winners[0], epoch: 1, previous: [] }
            : { version: winners[0], epoch: 2, previous: [incumbent] },
        );
        const states = new Map((await registry.listVersions(model)).map((v) => [v.version, v.state]));
        expect([...states.values()].filter((s) => s === 'production')).toHaveLength(1);
        expect(states.get(winners[0]!)).toBe('production');
        expect(versions.filter((v) => states.get(v) === 'approved')).toHaveLength(9);
        if (incumbent !== undefined) expect(states.get(incumbent)).toBe('archived');
        expect(await registry.listAudit(model, { kind: 'champion_changed' })).toHaveLength(incumbent === undefined ? 1 : 2);
      }
    });

    it('when 10 approvers decide on one version at once, then one decision lands and the rest see it (no lost update)', async () => {
      for (let round = 0; round < 5; round++) {
        const model = await aModel('race');
        const version = await registered(model);
        await useCases.applyCommand(model, version, { type: 'start_validation' }, system);
        await useCases.applyCommand(model, version, { type: 'pass_validation', evidenceHash: evidenceOf(version) }, system);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            useCases.applyCommand(
              model,
              version,
              i % 2 === 0
                ? { type: 'approve', evidenceHash: evidenceOf(version) }
                : { type: 'reject', evidenceHash: evidenceOf(version), reason: `reviewer ${i} says no` },
              anApprover(`approver-${i}@example.com`),
            ),
          ),
        );
        const fulfilled = results.filter((r) => r.status === 'fulfilled');
        expect(fulfilled).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
        }
        const stored = (await registry.getVersion(model, version))!.value;
        expect(stored.revision).toBe(3);
        expect(stored.history.map((e) => e.command)).toEqual(['start_validation', 'pass_validation', stored.history[2]!.command]);
        expect(stored.state).toBe(stored.history[2]!.command === 'approve' ? 'approved' : 'rejected');
        const ledger = await registry.listAudit(model, { kind: 'transition', version });
        expect(ledger).toEqual(stored.history);
      }
    });
  });

  describe('audit ledger', () => {
    it('when approvals break the rules, then they are refused and nothing is written', async () => {
      const model = await aModel();
      const version = await registered(model);
      await useCases.applyCommand(model, version, { type: 'start_validation' }, system);
      await useCases.applyCommand(model, version, { type: 'pass_validation', evidenceHash: evidenceOf(version) }, system);
      const approve = { type: 'approve', evidenceHash: evidenceOf(version) };
      await expect(useCases.applyCommand(model, version, approve, anApprover(alice.id))).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(useCases.applyCommand(model, version, approve, anActor({ id: 'carol' }))).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        useCases.applyCommand(model, version, { ...approve, evidenceHash: sha('other') }, bob),
      ).rejects.toMatchObject({ code: 'EVIDENCE_MISMATCH' });
      await expect(useCases.applyCommand(model, version, { type: 'archive' }, bob)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
      const stored = (await registry.getVersion(model, version))!.value;
      expect(stored).toMatchObject({ state: 'pending_approval', revision: 2 });
      expect(await registry.listAudit(model, { kind: 'transition' })).toHaveLength(2);
    });

    it('when register -> validate -> approve -> promote -> promote v2 -> rollback is scripted, then "champion at T" is right for every T', async () => {
      const model = await aModel('hist');
      const marks: { at: string; champion: number | null }[] = [];
      const mark = async (champion: number | null) => {
        await pause(3);
        marks.push({ at: new Date().toISOString(), champion });
        await pause(3);
      };
      await mark(null);
      const v1 = await approved(model);
      await mark(null);
      await useCases.applyCommand(model, v1, { type: 'promote' }, bob);
      await mark(v1);
      const v2 = await approved(model);
      await mark(v1);
      await useCases.applyCommand(model, v2, { type: 'promote', reason: 'better roc_auc' }, bob);
      await mark(v2);
      await useCases.applyCommand(model, v2, { type: 'rollback', reason: 'complaints from segment north' }, bob);
      await mark(v1);

      for (const { at, champion } of marks) expect(await useCases.championAt(model, at)).toBe(champion);
      for (const { at, champion } of marks) expect(await registry.championAt(model, at)).toBe(champion);

      // At the instant of each change, and one millisecond before it.
      const changes = (await registry.listAudit(model, { kind: 'champion_changed' })) as ChampionChangedEvent[];
      expect(changes.map((c) => [c.cause, c.from, c.to])).toEqual([
        ['promote', null, v1],
        ['promote', v1, v2],
        ['rollback', v2, v1],
      ]);
      for (const change of changes) {
        expect(await useCases.championAt(model, change.at)).toBe(change.to);
        expect(await useCases.championAt(model, new Date(Date.parse(change.at) - 1).toISOString())).toBe(change.from);
      }

      const [first, second] = await registry.listVersions(model);
      expect(first?.state).toBe('production');
      expect(second?.state).toBe('archived');
      expect(first?.history.map((e) => e.command)).toEqual(['start_validation', 'pass_validation', 'approve', 'promote', 'archive', 'restore']);
      expect(second?.history.map((e) => e.command)).toEqual(['start_validation', 'pass_validation', 'approve', 'promote', 'rollback']);
      expect(await registry.getChampion(model)).toMatchObject({ value: { version: v1, previous: [], epoch: 3 } });

      // The ledger holds every transition of every version, once.
      const transitions = await registry.listAudit(model, { kind: 'transition' });
      expect(transitions).toHaveLength(first!.history.length + second!.history.length);
      await expect(useCases.applyCommand(model, v1, { type: 'rollback' }, bob)).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
        message: expect.stringMatching(/no previous champion/),
      });
    });
  });

  describe('champion pointer', () => {
    it('when a promotion is repeated, then the second is a no-op', async () => {
      const model = await aModel();
      const v1 = await approved(model);
      await useCases.applyCommand(model, v1, { type: 'promote' }, bob);
      const again = await useCases.applyCommand(model, v1, { type: 'promote' }, bob);
      expect(again.state).toBe('production');
      expect(await registry.listAudit(model, { kind: 'champion_changed' })).toHaveLength(1);
      expect((await registry.getChampion(model))?.value.epoch).toBe(1);
    });

    it('when a swap was interrupted before the versions moved, then the next champion operation finishes it', async () => {
      const model = await aModel();
      const v1 = await approved(model);
      await useCases.applyCommand(model, v1, { type: 'promote' }, bob);
      const v2 = await approved(model);
      // As if the process stopped right after winning the pointer swap for v2.
      const pointer = (await registry.getChampion(model))!;
      await registry.swapChampion(planPromotion(pointer.value, v2, bob, new Date().toISOString()), pointer.etag);
      expect((await registry.getVersion(model, v2))?.value.state).toBe('approved');
      // Until then the ledger answers from the pointer as well.
      expect(await useCases.championAt(model, new Date().toISOString())).toBe(v2);

      const retried = await useCases.applyCommand(model, v2, { type: 'promote' }, bob);
      expect(retried.state).toBe('production');
      expect((await registry.getVersion(model, v1))?.value.state).toBe('archived');
      expect(await registry.listAudit(model, { kind: 'champion_changed' })).toHaveLength(2);
    });

    it('when the version is not the champion or nothing came before, then rollback is ILLEGAL_TRANSITION', async () => {
      const model = await aModel();
      const v1 = await approved(model);
      await expect(useCases.applyCommand(model, v1, { type: 'rollback' }, bob)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
      await useCases.applyCommand(model, v1, { type: 'promote' }, bob);
      await expect(useCases.applyCommand(model, v1, { type: 'rollback' }, bob)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
      await expect(useCases.applyCommand(model, v1, { type: 'retire' }, bob)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
      expect(await useCases.getChampion(model)).toMatchObject({ version: v1 });
    });

    it('when the previous champion was retired, then a rollback skips to the one before it', async () => {
      const model = await aModel();
      const v1 = await approved(model);
      await useCases.applyCommand(model, v1, { type: 'promote' }, bob);
      const v2 = await approved(model);
      await useCases.applyCommand(model, v2, { type: 'promote' }, bob);
      const v3 = await approved(model);
      await useCases.applyCommand(model, v3, { type: 'promote' }, bob);
      await useCases.applyCommand(model, v2, { type: 'retire', reason: 'licence withdrawn' }, bob);
      await useCases.applyCommand(model, v3, { type: 'rollback' }, bob);
      expect(await useCases.getChampion(model)).toMatchObject({ version: v1, previous: [] });
      expect((await registry.listVersions(model)).map((v) => v.state)).toEqual(['production', 'retired', 'archived']);
    });
  });

  it('when nothing was ever promoted, then there is no champion at any time', async () => {
    const model = await aModel();
    expect(await useCases.championAt(model, new Date().toISOString())).toBeNull();
    expect(await useCases.getChampion(model)).toMatchObject({ modelName: model, version: null, previous: [], epoch: 0 });
  });
});
