import type { Clock } from '../../shared/ports/clock';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { aModelDefinition, aModelVersionInput, anActor } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { RecordingPublisher } from '../support/recording-publisher';

/** A clock that advances one second per reading, so every step has its own time. */
function steppingClock(start = Date.parse('2026-03-01T00:00:00.000Z')): Clock {
  let t = start;
  return { now: () => new Date((t += 1000)) };
}

const carlos = anActor({ id: 'carlos', roles: ['MLOps.Contributor'] });
const adam = anActor({ id: 'adam', roles: ['MLOps.Admin'] });

async function aChurnModel(definition = aModelDefinition({ name: 'churn', owners: ['team-a'], schedule: '0 0 3 * * *' })) {
  const registry = new InMemoryModelRegistry();
  const events = new RecordingPublisher();
  const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events });
  await useCases.createModel(definition, carlos);
  return { registry, events, useCases };
}

const updatesOf = async (useCases: RegistryUseCases) => (await useCases.auditLog('churn')).filter((e) => e.kind === 'model_updated');

describe('updating a model (registry use cases, in-memory registry)', () => {
  it('when a policy is patched, then only that leaf changes: objects merge at every depth, the rest keeps its value', async () => {
    const { useCases } = await aChurnModel();
    const before = await useCases.getModel('churn');
    const { model, updated } = await useCases.updateModel('churn', { policies: { drift: { distanceThreshold: 0.25 } } }, adam);
    expect(updated).toBe(true);
    expect(model.definition.policies.drift).toEqual({ ...before.definition.policies.drift, distanceThreshold: 0.25 });
    expect({ ...model.definition, policies: before.definition.policies }).toEqual(before.definition);
    expect(model).toMatchObject({ revision: 1, createdAt: before.createdAt, createdBy: 'carlos' });
    expect(Date.parse(model.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    expect(await useCases.getModel('churn')).toEqual(model);
  });

  it('when arrays are patched, then they are replaced whole; null removes the schedule and returns a policy to its default', async () => {
    const { useCases } = await aChurnModel(
      aModelDefinition({ owners: ['team-a', 'team-b'], schedule: '0 0 3 * * *', policies: { retraining: { windows: 4 }, validation: { splits: [{ kind: 'kfold', k: 3 }] } } }),
    );
    const { model } = await useCases.updateModel(
      'churn',
      { owners: ['team-c'], schedule: null, policies: { retraining: { windows: null }, validation: { splits: [{ kind: 'random', testFraction: 0.3 }] } } },
      adam,
    );
    expect(model.definition.owners).toEqual(['team-c']);
    expect(model.definition).not.toHaveProperty('schedule');
    expect(model.definition.policies.retraining).not.toHaveProperty('windows');
    expect(model.definition.policies.validation.splits).toEqual([{ kind: 'random', testFraction: 0.3, seed: 42 }]);
  });

  it('when the definition changes, then the ledger has a model_updated entry with actor, reason and each change, and model.updated lists the paths', async () => {
    const { useCases, events } = await aChurnModel();
    const { model } = await useCases.updateModel(
      'churn',
      { reason: 'fires daily on seasonal traffic', description: 'churn, v2 team', policies: { approval: { timeout: 'P14D' }, drift: { distanceThreshold: 0.2 } } },
      adam,
    );
    const [entry] = await updatesOf(useCases);
    expect(entry).toEqual({
      id: 'churn:updated:1',
      kind: 'model_updated',
      modelName: 'churn',
      revision: 1,
      actor: adam,
      at: model.updatedAt,
      reason: 'fires daily on seasonal traffic',
      changes: [
        { path: 'description', from: '', to: 'churn, v2 team' },
        { path: 'policies.approval.timeout', from: 'P7D', to: 'P14D' },
        { path: 'policies.drift.distanceThreshold', from: 0.1, to: 0.2 },
      ],
    });
    expect(events.ofType('model.updated')).toEqual([
      {
        eventId: 'churn:updated:1',
        type: 'model.updated',
        model: 'churn',
        occurredAt: model.updatedAt,
        data: { actor: 'adam', revision: 1, changedPaths: ['description', 'policies.approval.timeout', 'policies.drift.distanceThreshold'], reason: 'fires daily on seasonal traffic' },
      },
    ]);
    expect(model.lastUpdate).toEqual(entry);
  });

  it('when a schedule is added or removed, then the change has no from or no to', async () => {
    const { useCases } = await aChurnModel(aModelDefinition({ name: 'churn' }));
    await useCases.updateModel('churn', { schedule: '0 30 * * * *' }, adam);
    await useCases.updateModel('churn', { schedule: null }, adam);
    expect((await updatesOf(useCases)).map((e) => (e.kind === 'model_updated' ? e.changes : []))).toEqual([
      [{ path: 'schedule', to: '0 30 * * * *' }],
      [{ path: 'schedule', from: '0 30 * * * *' }],
    ]);
  });

  it('when a replaced value is large, then the ledger keeps a preview of it, marked truncated, and the definition keeps it whole', async () => {
    const { useCases } = await aChurnModel();
    const owners = Array.from({ length: 200 }, (_, i) => `owner-${i}@example.com`);
    const { model } = await useCases.updateModel('churn', { owners }, adam);
    expect(model.definition.owners).toEqual(owners);
    const [entry] = await updatesOf(useCases);
    const [change] = entry?.kind === 'model_updated' ? entry.changes : [];
    expect(change).toEqual({ path: 'owners', from: ['team-a'], to: expect.stringMatching(/^\["owner-0@example\.com",.*… \(\d+ characters of JSON\)$/), truncated: true });
  });

  it('when a patch changes immutable fields, then VALIDATION_ERROR names every one and why, and nothing is written', async () => {
    const { useCases, registry, events } = await aChurnModel();
    const before = await registry.readModel('churn');
    const refused = useCases.updateModel(
      'churn',
      { task: 'multiclass', idColumn: 'account', features: [{ name: 'tenure', type: 'numeric' }], policies: { drift: { window: 'PT6H', distanceThreshold: 0.3 } }, description: 'fine' },
      adam,
    );
    await expect(refused).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('register a new model instead'),
      details: { immutableFields: ['task', 'idColumn', 'features', 'policies.drift.window'] },
    });
    const error = (await refused.catch((e: unknown) => e)) as { details: { issues: { path: string; message: string }[] } };
    expect(error.details.issues.find((i) => i.path === 'policies.drift.window')?.message).toMatch(/monitoring windows/);
    expect(await registry.readModel('churn')).toEqual(before);
    expect(await updatesOf(useCases)).toEqual([]);
    expect(events.ofType('model.updated')).toEqual([]);
  });

  it('when an immutable field is sent with its stored value (defaults left out), then it is no change', async () => {
    const { useCases } = await aChurnModel();
    const stored = (await useCases.getModel('churn')).definition;
    const { updated, model } = await useCases.updateModel(
      'churn',
      { name: 'churn', task: 'binary', features: aModelDefinition().features, predictionColumns: {}, policies: { drift: { window: 'P1D' } }, description: 'sent whole' },
      adam,
    );
    expect(updated).toBe(true);
    expect(model.definition).toEqual({ ...stored, description: 'sent whole' });
  });

  it('when a field is unknown, then VALIDATION_ERROR names it, at the top and inside policies', async () => {
    const { useCases } = await aChurnModel();
    await expect(useCases.updateModel('churn', { colour: 'blue' }, adam)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('colour') });
    await expect(useCases.updateModel('churn', { policies: { approval: { timeuot: 'P1D' } } }, adam)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('timeuot'),
    });
  });

  it('when the patched definition breaks a creation rule, then VALIDATION_ERROR names the field and nothing is written', async () => {
    const { useCases, registry } = await aChurnModel();
    const before = await registry.readModel('churn');
    const cases: [unknown, string][] = [
      [{ policies: { approval: { timeout: 'PT0S' } } }, 'policies.approval.timeout'],
      [{ schedule: '0 0 3 * *' }, 'schedule'],
      [{ policies: { validation: { metric: 'rmse' } } }, 'policies.validation.metric'],
      [{ policies: { drift: { columns: [{ column: 'no_such_column' }] } } }, 'policies.drift.columns.0.column'],
      [{ policies: { drift: { distanceThreshold: -1 } } }, 'policies.drift.distanceThreshold'],
      [{ description: 5 }, 'description'],
    ];
    for (const [patch, path] of cases) {
      const error = await useCases.updateModel('churn', patch, adam).catch((e: { code: string; details: { issues: { path: string }[] } }) => e);
      expect(error).toMatchObject({ code: 'VALIDATION_ERROR' });
      expect((error as { details: { issues: { path: string }[] } }).details.issues.map((i) => i.path)).toContain(path);
    }
    expect(await registry.readModel('churn')).toEqual(before);
  });

  it('when a reason is empty or too long, then VALIDATION_ERROR names reason', async () => {
    const { useCases } = await aChurnModel();
    for (const reason of ['', 'x'.repeat(2001)]) {
      await expect(useCases.updateModel('churn', { reason, description: 'x' }, adam)).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
        details: { issues: [expect.objectContaining({ path: 'reason' })] },
      });
    }
  });

  it('when the patch changes nothing, then the model comes back as it is and nothing is written: no revision, no entry, no event', async () => {
    const { useCases, registry, events } = await aChurnModel();
    const before = await registry.readModel('churn');
    const { model, updated } = await useCases.updateModel('churn', { reason: 'just checking', owners: ['team-a'], policies: { approval: { timeout: 'P7D' } } }, adam);
    expect(updated).toBe(false);
    expect(model).toEqual(before!.value);
    expect(await registry.readModel('churn')).toEqual(before);
    expect(await updatesOf(useCases)).toEqual([]);
    expect(events.ofType('model.updated')).toEqual([]);
  });

  it('when If-Match names the current revision, then the update lands; a stale one is PRECONDITION_FAILED and nothing is written', async () => {
    const { useCases, registry } = await aChurnModel();
    const first = await useCases.updateModel('churn', { description: 'one' }, adam, { ifRevisions: [0] });
    expect(first.model.revision).toBe(1);
    const stored = await registry.readModel('churn');
    await expect(useCases.updateModel('churn', { description: 'two' }, adam, { ifRevisions: [0] })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      details: { model: 'churn', revision: 1 },
    });
    expect(await registry.readModel('churn')).toEqual(stored);
    expect((await useCases.updateModel('churn', { description: 'two' }, adam, { ifRevisions: [3, 1] })).model).toMatchObject({ revision: 2, definition: { description: 'two' } });
    await expect(useCases.updateModel('churn', { description: 'three' }, adam, { ifRevisions: [] })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('when a version is registered between the read and the write, then the update is redone on the fresh document and keeps latestVersion', async () => {
    const { useCases, registry } = await aChurnModel();
    let registeredMeanwhile = false;
    registry.beforeReplaceModel = async () => {
      if (registeredMeanwhile) return;
      registeredMeanwhile = true;
      await useCases.registerVersion('churn', aModelVersionInput(), carlos);
    };
    const { model } = await useCases.updateModel('churn', { description: 'after' }, adam, { ifRevisions: [0] });
    expect(registeredMeanwhile).toBe(true);
    expect(model).toMatchObject({ latestVersion: 1, revision: 1, definition: { description: 'after' } });
  });

  it('when two updates of different fields run at once, then both land, one revision each, each with its own entry', async () => {
    const { useCases, registry } = await aChurnModel();
    // The first write waits until the second update has read the same document, so they race.
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    let writes = 0;
    registry.beforeReplaceModel = async () => {
      writes += 1;
      if (writes === 1) await bothRead;
      else release();
    };
    await Promise.all([
      useCases.updateModel('churn', { policies: { drift: { distanceThreshold: 0.3 } } }, adam),
      useCases.updateModel('churn', { policies: { retraining: { cooldown: 'P14D' } } }, adam),
    ]);
    expect(writes).toBe(3); // the first write met the second's and was redone on the fresh document
    const model = await useCases.getModel('churn');
    expect(model.definition.policies.drift.distanceThreshold).toBe(0.3);
    expect(model.definition.policies.retraining.cooldown).toBe('P14D');
    expect(model.revision).toBe(2);
    expect((await updatesOf(useCases)).map((e) => e.id)).toEqual(['churn:updated:1', 'churn:updated:2']);
  });

  it('when an update was stored and its entry failed, then the retry finishes the entry and the event once and answers the model', async () => {
    const { useCases, registry, events } = await aChurnModel();
    registry.beforeAppend = (entry) => {
      if (entry.kind === 'model_updated') throw new Error('Cosmos DB is unreachable');
    };
    const patch = { reason: 'moved trainer', policies: { retraining: { trainer: 'webhook' } } };
    await expect(useCases.updateModel('churn', patch, adam)).rejects.toThrow('unreachable');
    expect((await useCases.getModel('churn')).definition.policies.retraining.trainer).toBe('webhook');
    expect(await updatesOf(useCases)).toEqual([]);
    registry.beforeAppend = undefined;
    const retried = await useCases.updateModel('churn', patch, adam);
    expect(retried).toMatchObject({ updated: false, model: { revision: 1 } });
    expect(await updatesOf(useCases)).toEqual([retried.model.lastUpdate]);
    expect(retried.model.lastUpdate).toMatchObject({ actor: adam, reason: 'moved trainer', changes: [{ path: 'policies.retraining.trainer', from: 'builtin', to: 'webhook' }] });
    expect(events.ofType('model.updated')).toHaveLength(1);
  });

  it('when an update was stored and its entry failed, then a retry with the If-Match of the revision before finishes the entry and answers PRECONDITION_FAILED', async () => {
    const { useCases, registry } = await aChurnModel();
    registry.beforeAppend = (entry) => {
      if (entry.kind === 'model_updated') throw new Error('Cosmos DB is unreachable');
    };
    await expect(useCases.updateModel('churn', { description: 'x' }, adam, { ifRevisions: [0] })).rejects.toThrow('unreachable');
    registry.beforeAppend = undefined;
    await expect(useCases.updateModel('churn', { description: 'x' }, adam, { ifRevisions: [0] })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect((await updatesOf(useCases)).map((e) => e.id)).toEqual(['churn:updated:1']);
  });

  it('when an update was stored and its event failed, then the model\'s next registration publishes and records it', async () => {
    const { useCases, events } = await aChurnModel();
    events.failNext = true;
    await expect(useCases.updateModel('churn', { description: 'x' }, adam)).rejects.toThrow('unreachable');
    expect(await updatesOf(useCases)).toEqual([]);
    await useCases.registerVersion('churn', aModelVersionInput(), carlos);
    expect((await updatesOf(useCases)).map((e) => e.id)).toEqual(['churn:updated:1']);
    expect(events.ofType('model.updated').map((e) => e.data.changedPaths)).toEqual([['description']]);
  });

  it('when the model does not exist, then MODEL_NOT_FOUND', async () => {
    const { useCases } = await aChurnModel();
    await expect(useCases.updateModel('nope', { description: 'x' }, adam)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});
