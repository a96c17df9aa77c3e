import { randomBytes } from 'node:crypto';

import { documentBytes, MAX_DOCUMENT_BYTES } from '../../shared/domain/document-size';
import { emptyChampion } from '../../shared/domain/lifecycle';
import type { ModelRegistry } from '../../shared/ports/model-registry';
import type { ModelVersion } from '../../shared/schemas/model-version';
import {
  type AuditEvent,
  type ChampionChangedEvent,
  type ChampionPointer,
  type ModelRecord,
  modelRecordSchema,
} from '../../shared/schemas/registry';
import { aModelDefinition, aModelVersion, anActor, aTransitionEntry, sha } from '../support/builders';

const alice = anActor({ id: 'alice@example.com' });
const T0 = Date.parse('2026-02-01T00:00:00.000Z');
/** An ISO time `seconds` after T0. */
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/**
 * Puts a version document into the store as it is, unchecked (a document damaged in the store, or
 * written under rules that have since tightened), under the key of version `version` of `model`:
 * what the implementation's own writes refuse.
 */
export type StoreUncheckedVersion<R extends ModelRegistry = ModelRegistry> = (registry: R, model: string, version: number, raw: Record<string, unknown>) => Promise<void>;

/**
 * The documented semantics of the ModelRegistry port (shared/ports/model-registry.ts), run against
 * every implementation so the in-memory fake cannot drift from the Cosmos adapter. Each test works
 * on models of its own (random names), so the suite also runs against a shared database.
 */
export function describeModelRegistryContract<R extends ModelRegistry>(name: string, makeRegistry: () => R, storeUncheckedVersion: StoreUncheckedVersion<R>): void {
  describe(`ModelRegistry contract: ${name}`, () => {
    let registry: R;
    beforeEach(() => {
      registry = makeRegistry();
    });

    const aModelName = (prefix = 'c') => `${prefix}-${randomBytes(5).toString('hex')}`;

    function aModelRecord(modelName: string): ModelRecord {
      // Parsed, so the definition carries its defaults as a store returns them.
      return modelRecordSchema.parse({
        modelName,
        definition: aModelDefinition({ name: modelName }),
        createdAt: at(0),
        updatedAt: at(0),
        createdBy: alice.id,
        latestVersion: 0,
      });
    }

    async function aModel(prefix?: string): Promise<string> {
      const modelName = aModelName(prefix);
      await registry.createModel(aModelRecord(modelName));
      return modelName;
    }

    const versionOf = (model: string) => (version: number) => aModelVersion({ modelName: model, version });

    /** A version whose document is about `bytes` of JSON (training metrics fill it up). */
    const sizedVersionOf = (model: string, bytes: number) => (version: number) => {
      const base = aModelVersion({ modelName: model, version });
      const entries = Math.floor((bytes - documentBytes(base)) / '"m00000000":1,'.length);
      const trainingMetrics = Object.fromEntries(Array.from({ length: entries }, (_, i) => [`m${String(i).padStart(8, '0')}`, 1]));
      return { ...base, trainingMetrics };
    };

    async function registered(model: string) {
      return registry.registerVersion(model, versionOf(model));
    }

    function aChampionChange(
      model: string,
      epoch: number,
      from: number | null,
      to: number | null,
      seconds: number,
    ): ChampionChangedEvent {
      return {
        id: `${model}:champion:${epoch}`,
        kind: 'champion_changed',
        modelName: model,
        epoch,
        from,
        to,
        cause: 'promote',
        actor: alice,
        at: at(seconds),
      };
    }

    const aTransition = (model: string, version: number, revision: number, seconds: number): AuditEvent => aTransitionEntry(model, version, revision, at(seconds));

    const pointer = (
      model: string,
      version: number,
      epoch: number,
      previous: number[] = [],
    ): ChampionPointer => ({
      ...emptyChampion(model, at(epoch)),
      version,
      previous,
      epoch,
    });

    describe('models', () => {
      it('when a model is created, then it reads back as returned and is listed by name', async () => {
        const [first, second] = [aModelName('b'), aModelName('a')];
        const created = await registry.createModel(aModelRecord(first));
        await registry.createModel(aModelRecord(second));
        expect(created).toEqual(aModelRecord(first));
        expect(await registry.getModel(first)).toEqual(created);
        const names = (await registry.listModels()).models.map((m) => m.modelName);
        expect(names).toEqual(expect.arrayContaining([first, second]));
        expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
      });

      it('when a model does not exist, then getModel is undefined', async () => {
        expect(await registry.getModel(aModelName())).toBeUndefined();
      });

      it('when a model name is taken, then createModel is MODEL_ALREADY_EXISTS and the first stays', async () => {
        const model = await aModel();
        await expect(
          registry.createModel({ ...aModelRecord(model), createdBy: 'mallory' }),
        ).rejects.toMatchObject({
          code: 'MODEL_ALREADY_EXISTS',
        });
        expect((await registry.getModel(model))?.createdBy).toBe(alice.id);
      });

      it('when a model is replaced with the ETag it was read with, then it reads back changed under a new ETag; the old ETag is then CONCURRENCY_CONFLICT', async () => {
        const model = await aModel();
        const read = await registry.readModel(model);
        expect(read).toEqual({ value: await registry.getModel(model), etag: expect.any(String) });
        const updated = modelRecordSchema.parse({
          ...read!.value,
          definition: { ...read!.value.definition, description: 'updated' },
          updatedAt: at(5),
          revision: 1,
        });
        const replaced = await registry.replaceModel(updated, read!.etag);
        expect(replaced.value).toEqual(updated);
        expect(replaced.etag).not.toBe(read!.etag);
        expect(await registry.readModel(model)).toEqual(replaced);
        await expect(registry.replaceModel({ ...updated, revision: 2 }, read!.etag)).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
        expect(await registry.getModel(model)).toEqual(updated);
      });

      it('when a version is registered after the model was read, then the ETag it was read with no longer replaces it', async () => {
        const model = await aModel();
        const read = await registry.readModel(model);
        await registered(model);
        await expect(registry.replaceModel({ ...read!.value, revision: 1 }, read!.etag)).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
        expect((await registry.readModel(model))?.value).toMatchObject({ latestVersion: 1 });
        expect((await registry.getModel(model))?.revision).toBeUndefined();
      });

      it('when the model does not exist, then readModel is undefined and replaceModel is MODEL_NOT_FOUND and creates nothing', async () => {
        const model = aModelName();
        expect(await registry.readModel(model)).toBeUndefined();
        await expect(registry.replaceModel(aModelRecord(model), '"0"')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
        expect(await registry.getModel(model)).toBeUndefined();
      });
    });

    describe('versions', () => {
      it('when versions are registered, then they get 1 and 2, read back with their ETags and raise latestVersion', async () => {
        const model = await aModel();
        const first = await registered(model);
        const second = await registry.registerVersion(model, (n) =>
          aModelVersion({ modelName: model, version: n, description: 'second' }),
        );
        expect([first.value.version, second.value.version]).toEqual([1, 2]);
        expect(second.value).toEqual(aModelVersion({ modelName: model, version: 2, description: 'second' }));
        expect(second.created).toBe(true);
        expect(await registry.getVersion(model, 2)).toEqual({ value: second.value, etag: second.etag });
        expect(first.etag).toEqual(expect.any(String));
        expect((await registry.getModel(model))?.latestVersion).toBe(2);
      });

      it('when the model does not exist, then registerVersion is MODEL_NOT_FOUND and stores nothing', async () => {
        const model = aModelName();
        await expect(registered(model)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
        expect(await registry.listVersions(model)).toEqual([]);
        expect(await registry.getVersion(model, 1)).toBeUndefined();
      });

      it('when build returns another number than asked for, then registerVersion fails and stores nothing', async () => {
        const model = await aModel();
        await expect(
          registry.registerVersion(model, (n) => aModelVersion({ modelName: model, version: n + 1 })),
        ).rejects.toThrow();
        expect(await registry.listVersions(model)).toEqual([]);
      });

      it('when 12 registrations run at once, then they get 1..12 with no gaps, listed by number', async () => {
        const model = await aModel('race');
        const results = await Promise.all(Array.from({ length: 12 }, () => registered(model)));
        const expected = Array.from({ length: 12 }, (_, i) => i + 1);
        expect(results.map((r) => r.value.version).sort((a, b) => a - b)).toEqual(expected);
        // 10, 11, 12 after 9: numbers, not strings, decide the order.
        expect((await registry.listVersions(model)).map((v) => v.version)).toEqual(expected);
        expect((await registry.getModel(model))?.latestVersion).toBe(12);
      });

      it('when a version does not exist, then getVersion is undefined and listVersions of another model is empty', async () => {
        const model = await aModel();
        await registered(model);
        expect(await registry.getVersion(model, 2)).toBeUndefined();
        expect(await registry.listVersions(await aModel())).toEqual([]);
      });
    });

    describe('registration keys', () => {
      it('when a key is registered again, then the first version comes back (not created) and no number is used', async () => {
        const model = await aModel();
        const first = await registry.registerVersion(model, versionOf(model), { registrationKey: 'sha:one' });
        const again = await registry.registerVersion(model, versionOf(model), { registrationKey: 'sha:one' });
        const other = await registry.registerVersion(model, versionOf(model), { registrationKey: 'sha:two' });
        expect(first).toMatchObject({ created: true, value: { version: 1, registrationKey: 'sha:one' } });
        expect(again).toMatchObject({ created: false, value: { version: 1 } });
        expect(other).toMatchObject({ created: true, value: { version: 2 } });
      });

      it('when 6 registrations with one key run at once, then one version is stored and all six get it', async () => {
        const model = await aModel();
        const results = await Promise.all(
          Array.from({ length: 6 }, () => registry.registerVersion(model, versionOf(model), { registrationKey: 'sha:same' })),
        );
        expect(new Set(results.map((r) => r.value.version))).toEqual(new Set([1]));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(await registry.listVersions(model)).toHaveLength(1);
      });

      it('when a version is too large to store, then PAYLOAD_TOO_LARGE, nothing is stored and its key is free at once; one just within the limit is stored', async () => {
        const model = await aModel();
        const tooLarge = registry.registerVersion(model, sizedVersionOf(model, MAX_DOCUMENT_BYTES + 500_000), { registrationKey: 'sha:big' });
        await expect(tooLarge).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: MAX_DOCUMENT_BYTES } });
        expect(await registry.listVersions(model)).toEqual([]);
        expect((await registry.getModel(model))?.latestVersion).toBe(0);
        // A retry with the key is not kept waiting for a registration that can never finish.
        const retried = await registry.registerVersion(model, versionOf(model), { registrationKey: 'sha:big' });
        expect(retried).toMatchObject({ created: true, value: { version: 1 } });
        const large = await registry.registerVersion(model, sizedVersionOf(model, MAX_DOCUMENT_BYTES - 2048));
        expect(large.value.version).toBe(2);
        expect(Object.keys((await registry.getVersion(model, 2))!.value.trainingMetrics).length).toBe(Object.keys(large.value.trainingMetrics).length);
      });
    });

    describe('listReadableVersionsInState', () => {
      it('when versions are in several states, then only those in the state asked for are listed, by number', async () => {
        const model = await aModel();
        for (let i = 0; i < 11; i++) await registered(model);
        const states = new Map([
          [2, 'validating'],
          [9, 'validating'],
          [10, 'validating'],
          [3, 'validation_failed'],
          [11, 'pending_approval'],
        ] as const);
        for (const [version, state] of states) {
          const stored = (await registry.getVersion(model, version))!;
          await registry.replaceVersion({ ...stored.value, state, revision: 1 }, stored.etag);
        }
        // 10 after 9: numbers, not strings, decide the order.
        expect((await registry.listReadableVersionsInState(model, 'validating')).versions.map((v) => [v.version, v.state])).toEqual([
          [2, 'validating'],
          [9, 'validating'],
          [10, 'validating'],
        ]);
        expect((await registry.listReadableVersionsInState(model, 'registered')).versions.map((v) => v.version)).toEqual([1, 4, 5, 6, 7, 8]);
        expect(await registry.listReadableVersionsInState(model, 'retired')).toEqual({ versions: [], unreadable: [] });
        expect(await registry.listReadableVersionsInState(await aModel(), 'validating')).toEqual({ versions: [], unreadable: [] });
        expect(await registry.listReadableVersionsInState(model, 'pending_approval')).toEqual({ versions: [(await registry.getVersion(model, 11))!.value], unreadable: [] });
      });

      it('when stored versions do not read, then those that may be in the state (theirs, or one that cannot be told) are listed apart by number with the reason, and the others are still listed', async () => {
        const model = await aModel();
        for (let i = 0; i < 3; i++) await registered(model);
        for (const version of [1, 3]) {
          const stored = (await registry.getVersion(model, version))!;
          await registry.replaceVersion({ ...stored.value, state: 'pending_approval', revision: 1 }, stored.etag);
        }
        const damaged = (version: number, fields: Record<string, unknown>) => storeUncheckedVersion(registry, model, version, { ...aModelVersion({ modelName: model, version }), ...fields });
        await damaged(2, { state: 'pending_approval', revision: -1 });
        await damaged(10, { state: 'pending_approval', revision: -1 });
        await damaged(4, { state: 'registered', revision: -1 }); // another state: not read
        await damaged(5, { state: 7 }); // its state cannot be told
        await damaged(6, { state: 'Pending_Approval' }); // text, but no lifecycle state

        const pending = await registry.listReadableVersionsInState(model, 'pending_approval');

        expect(pending.versions.map((v) => v.version)).toEqual([1, 3]);
        expect(pending.unreadable.map((u) => u.version)).toEqual([2, 5, 6, 10]);
        expect(pending.unreadable[0]).toEqual({ version: 2, reason: expect.stringMatching(/^its stored version document is invalid: .*revision/s) });
        expect(pending.unreadable[1]!.reason).toMatch(/^its stored version document is invalid: .*state/s);
        expect((await registry.listReadableVersionsInState(model, 'registered')).unreadable.map((u) => u.version)).toEqual([4, 5, 6]);
        // The point read and the full listing still fail naming a version that does not read.
        await expect(registry.getVersion(model, 2)).rejects.toThrow(/invalid/);
        await expect(registry.listVersions(model)).rejects.toThrow(/invalid/);
      });
    });

    describe('replaceVersion', () => {
      it('when the replacement is too large to store, then PAYLOAD_TOO_LARGE and the stored version stays', async () => {
        const model = await aModel();
        const stored = await registered(model);
        const { trainingMetrics } = sizedVersionOf(model, MAX_DOCUMENT_BYTES + 1000)(1);
        await expect(registry.replaceVersion({ ...stored.value, trainingMetrics, revision: 1 }, stored.etag)).rejects.toMatchObject({
          code: 'PAYLOAD_TOO_LARGE',
        });
        expect(await registry.getVersion(model, 1)).toEqual({ value: stored.value, etag: stored.etag });
      });

      it('when the ETag is current, then the version is replaced and gets a new ETag', async () => {
        const model = await aModel();
        const stored = await registered(model);
        const replaced = await registry.replaceVersion(
          { ...stored.value, description: 'edited', revision: 1 },
          stored.etag,
        );
        expect(replaced.etag).not.toBe(stored.etag);
        expect(replaced.value).toMatchObject({ description: 'edited', revision: 1 });
        expect(await registry.getVersion(model, 1)).toEqual(replaced);
      });

      it('when the ETag is stale, then CONCURRENCY_CONFLICT and the newer write survives', async () => {
        const model = await aModel();
        const stale = await registered(model);
        await registry.replaceVersion({ ...stale.value, description: 'first writer' }, stale.etag);
        await expect(
          registry.replaceVersion({ ...stale.value, description: 'second writer' }, stale.etag),
        ).rejects.toMatchObject({
          code: 'CONCURRENCY_CONFLICT',
        });
        expect((await registry.getVersion(model, 1))?.value.description).toBe('first writer');
      });

      it('when 5 writers replace with the same ETag at once, then exactly one wins', async () => {
        const model = await aModel();
        const stored = await registered(model);
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, i) =>
            registry.replaceVersion({ ...stored.value, description: `writer ${i}` }, stored.etag),
          ),
        );
        const winners = results.filter((r) => r.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
        expect((await registry.getVersion(model, 1))?.value).toEqual(winners[0]?.value.value);
      });

      it('when the version does not exist, then VERSION_NOT_FOUND', async () => {
        const model = await aModel();
        const stored = await registered(model);
        const missing: ModelVersion = { ...stored.value, version: 7 };
        await expect(registry.replaceVersion(missing, stored.etag)).rejects.toMatchObject({
          code: 'VERSION_NOT_FOUND',
        });
        expect(await registry.getVersion(model, 7)).toBeUndefined();
      });
    });

    describe('champion pointer', () => {
      it('when there is none, then getChampion is undefined and a swap without ETag creates it', async () => {
        const model = await aModel();
        expect(await registry.getChampion(model)).toBeUndefined();
        const created = await registry.swapChampion(pointer(model, 1, 1), undefined);
        expect(created.value).toEqual(pointer(model, 1, 1));
        expect(await registry.getChampion(model)).toEqual(created);
      });

      it('when a pointer exists, then a swap without ETag is CONCURRENCY_CONFLICT and the pointer stays', async () => {
        const model = await aModel();
        const created = await registry.swapChampion(pointer(model, 1, 1), undefined);
        await expect(registry.swapChampion(pointer(model, 2, 1), undefined)).rejects.toMatchObject({
          code: 'CONCURRENCY_CONFLICT',
        });
        expect(await registry.getChampion(model)).toEqual(created);
      });

      it('when the ETag is current, then the pointer moves; with the old ETag again, CONCURRENCY_CONFLICT', async () => {
        const model = await aModel();
        const first = await registry.swapChampion(pointer(model, 1, 1), undefined);
        const second = await registry.swapChampion(pointer(model, 2, 2, [1]), first.etag);
        expect(second.etag).not.toBe(first.etag);
        expect(await registry.getChampion(model)).toEqual(second);
        await expect(registry.swapChampion(pointer(model, 3, 2, [1]), first.etag)).rejects.toMatchObject({
          code: 'CONCURRENCY_CONFLICT',
        });
        expect((await registry.getChampion(model))?.value.version).toBe(2);
      });

      it('when an ETag is given but no pointer exists, then CONCURRENCY_CONFLICT and none is created', async () => {
        const model = await aModel();
        const other = await registry.swapChampion(pointer(await aModel(), 1, 1), undefined);
        await expect(registry.swapChampion(pointer(model, 1, 1), other.etag)).rejects.toMatchObject({
          code: 'CONCURRENCY_CONFLICT',
        });
        expect(await registry.getChampion(model)).toBeUndefined();
      });

      it('when 5 first swaps race, then exactly one creates the pointer', async () => {
        const model = await aModel();
        const results = await Promise.allSettled(
          [1, 2, 3, 4, 5].map((v) => registry.swapChampion(pointer(model, v, 1), undefined)),
        );
        const winners = results.filter((r) => r.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
        expect(await registry.getChampion(model)).toEqual(winners[0]?.value);
      });
    });

    describe('audit ledger', () => {
      it('when an id is appended again, then it is a no-op (false) even with other content; other models are apart', async () => {
        const model = await aModel();
        const other = await aModel();
        const event = aTransition(model, 1, 1, 10);
        expect(await registry.appendAudit(event)).toBe(true);
        expect(await registry.appendAudit(event)).toBe(false);
        expect(await registry.appendAudit({ ...event, at: at(20), reason: 'second try' } as AuditEvent)).toBe(
          false,
        );
        expect(await registry.appendAudit({ ...event, modelName: other })).toBe(true);
        expect(await registry.listAudit(model)).toEqual([event]);
      });

      it('when an entry is too large to store, then PAYLOAD_TOO_LARGE and it is not on the ledger', async () => {
        const model = await aModel();
        const entry = { ...aTransition(model, 1, 1, 5), reason: 'x'.repeat(MAX_DOCUMENT_BYTES) } as AuditEvent;
        await expect(registry.appendAudit(entry)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
        expect(await registry.hasAudit(model, entry.id)).toBe(false);
      });

      it('when an entry is appended, then hasAudit finds it by id in its model only', async () => {
        const model = await aModel();
        const other = await aModel();
        const entry = aTransition(model, 1, 1, 5);
        expect(await registry.hasAudit(model, entry.id)).toBe(false);
        await registry.appendAudit(entry);
        expect(await registry.hasAudit(model, entry.id)).toBe(true);
        expect(await registry.hasAudit(other, entry.id)).toBe(false);
      });

      it('when entries were appended out of order, then listAudit gives them oldest first, ties by kind then id', async () => {
        const model = await aModel();
        const created: AuditEvent = {
          id: `${model}:created`,
          kind: 'model_created',
          modelName: model,
          actor: alice,
          at: at(0),
        };
        const registeredEvent: AuditEvent = {
          id: `${model}:v2:r0`,
          kind: 'version_registered',
          modelName: model,
          version: 2,
          actor: alice,
          at: at(5),
          artifactSha256: sha('artifact'),
        };
        const entries = [
          aTransition(model, 2, 10, 5),
          aChampionChange(model, 1, null, 2, 5),
          aTransition(model, 2, 9, 5),
          registeredEvent,
          aTransition(model, 1, 1, 3),
          created,
        ];
        for (const e of entries) await registry.appendAudit(e);
        expect((await registry.listAudit(model)).map((e) => e.id)).toEqual([
          `${model}:created`,
          `${model}:v1:r1`,
          `${model}:v2:r0`,
          `${model}:champion:1`,
          `${model}:v2:r9`,
          `${model}:v2:r10`,
        ]);
      });

      it('when listAudit is filtered by kind or version, then only those entries come back, oldest first', async () => {
        const model = await aModel();
        for (const e of [
          aTransition(model, 2, 2, 4),
          aTransition(model, 1, 1, 2),
          aTransition(model, 2, 1, 3),
          aChampionChange(model, 1, null, 2, 5),
        ]) {
          await registry.appendAudit(e);
        }
        await registry.appendAudit(aTransition(await aModel(), 2, 1, 1));
        expect((await registry.listAudit(model, { kind: 'transition' })).map((e) => e.id)).toEqual([
          `${model}:v1:r1`,
          `${model}:v2:r1`,
          `${model}:v2:r2`,
        ]);
        expect((await registry.listAudit(model, { version: 2 })).map((e) => e.id)).toEqual([
          `${model}:v2:r1`,
          `${model}:v2:r2`,
        ]);
        expect((await registry.listAudit(model, { kind: 'champion_changed' })).map((e) => e.id)).toEqual([
          `${model}:champion:1`,
        ]);
        expect(await registry.listAudit(model, { kind: 'model_created' })).toEqual([]);
        expect(await registry.listAudit(aModelName())).toEqual([]);
      });

      it('when champion changes are in the ledger, then championAt answers from them at, before and between changes', async () => {
        const model = await aModel();
        expect(await registry.championAt(model, at(100))).toBeNull();
        // Appended out of order; two changes in the same instant are told apart by epoch.
        for (const e of [
          aChampionChange(model, 3, 2, 1, 30),
          aChampionChange(model, 1, null, 1, 10),
          aChampionChange(model, 2, 1, 2, 20),
          aChampionChange(model, 4, 1, 3, 30),
        ]) {
          await registry.appendAudit(e);
        }
        expect(await registry.championAt(model, at(9.999))).toBeNull();
        expect(await registry.championAt(model, at(10))).toBe(1);
        expect(await registry.championAt(model, at(19))).toBe(1);
        expect(await registry.championAt(model, at(20))).toBe(2);
        expect(await registry.championAt(model, at(30))).toBe(3);
        expect(await registry.championAt(model, at(1000))).toBe(3);
      });
    });
  });
}
