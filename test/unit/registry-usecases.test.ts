import type { Clock } from '../../shared/ports/clock';
import { storedModelDefinitionSchema } from '../../shared/schemas/model';
import { MAX_REGISTERED_VERSION_BYTES, RegistryUseCases } from '../../shared/usecases/registry';
import { aModelDefinition, aModelVersionInput, anActor, anApprover, sha, theSystem } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { RecordingPublisher } from '../support/recording-publisher';

/** A clock that advances one second per reading, so every step has its own time. */
function steppingClock(start = Date.parse('2026-03-01T00:00:00.000Z')): Clock {
  let t = start;
  return { now: () => new Date((t += 1000)) };
}

const alice = anActor({ id: 'alice' });
const bob = anApprover('bob');
const system = theSystem();
const EVIDENCE = sha('evidence');

async function setup() {
  const registry = new InMemoryModelRegistry();
  const events = new RecordingPublisher();
  const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events });
  await useCases.createModel(aModelDefinition({ name: 'churn' }), alice);
  const { version } = await useCases.registerVersion('churn', aModelVersionInput(), alice);
  return { registry, useCases, version, events };
}

async function toPendingApproval(useCases: RegistryUseCases, version: number) {
  await useCases.applyCommand('churn', version, { type: 'start_validation' }, system);
  await useCases.applyCommand('churn', version, { type: 'pass_validation', evidenceHash: EVIDENCE }, system);
}

/** The setup's v1 promoted by an admin, and a v2 approved: a promotion of v2 is the next champion change. */
async function v1ChampionV2Approved() {
  const { registry, useCases, version: v1 } = await setup();
  const admin = anActor({ id: 'root', roles: ['MLOps.Admin'] });
  const v2 = (await useCases.registerVersion('churn', aModelVersionInput(), alice)).version;
  for (const v of [v1, v2]) {
    await toPendingApproval(useCases, v);
    await useCases.applyCommand('churn', v, { type: 'approve', evidenceHash: EVIDENCE }, bob);
  }
  await useCases.applyCommand('churn', v1, { type: 'promote' }, admin);
  return { registry, useCases, v1, v2, admin };
}

/** Runs `act` once, just before `version`'s move to production is written. */
function onceBeforeEnteringProduction(registry: InMemoryModelRegistry, version: number, act: () => void): void {
  registry.beforeReplaceVersion = (next) => {
    if (next.version !== version || next.state !== 'production') return;
    registry.beforeReplaceVersion = undefined;
    act();
  };
}

describe('registry use cases (in-memory registry)', () => {
  it('when another writer changes the version between read and write, then the command re-decides on fresh state', async () => {
    const { registry, useCases, version } = await setup();
    let interfered = false;
    registry.beforeReplaceVersion = (next) => {
      if (interfered) return;
      interfered = true;
      const stored = registry.versions.get(`churn/${next.version}`)!.value;
      registry.interfere({ ...stored, description: 'edited meanwhile' });
    };
    const result = await useCases.applyCommand('churn', version, { type: 'start_validation' }, system);
    expect(result).toMatchObject({ state: 'validating', description: 'edited meanwhile', revision: 1 });
  });

  it('when the version became illegal for the command meanwhile, then the retry refuses instead of overwriting', async () => {
    const { registry, useCases, version } = await setup();
    registry.beforeReplaceVersion = (next) => {
      registry.beforeReplaceVersion = undefined;
      const stored = registry.versions.get(`churn/${next.version}`)!.value;
      registry.interfere({ ...stored, state: 'retired', revision: stored.revision + 1 });
    };
    await expect(useCases.applyCommand('churn', version, { type: 'start_validation' }, system)).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      details: { state: 'retired' },
    });
    expect((await registry.getVersion('churn', version))?.value.state).toBe('retired');
  });

  it('when a ledger append fails after the version was written, then the next command appends the missing entry', async () => {
    const { registry, useCases, version } = await setup();
    registry.beforeAppend = (event) => {
      if (event.kind === 'transition' && event.command === 'start_validation') throw new Error('process stopped');
    };
    await expect(useCases.applyCommand('churn', version, { type: 'start_validation' }, system)).rejects.toThrow('process stopped');
    registry.beforeAppend = undefined;
    expect(await registry.listAudit('churn', { kind: 'transition' })).toHaveLength(0);

    await useCases.applyCommand('churn', version, { type: 'pass_validation', evidenceHash: EVIDENCE }, system);
    const ledger = await registry.listAudit('churn', { kind: 'transition' });
    expect(ledger.map((e) => (e.kind === 'transition' ? e.command : e.kind))).toEqual(['start_validation', 'pass_validation']);
  });

  it('when a promotion stopped after the pointer swap and its ledger entry failed, then the next promotion finishes both', async () => {
    const { registry, useCases, version: v1 } = await setup();
    for (const command of [
      { type: 'start_validation' },
      { type: 'pass_validation', evidenceHash: EVIDENCE },
    ]) {
      await useCases.applyCommand('churn', v1, command, system);
    }
    await useCases.applyCommand('churn', v1, { type: 'approve', evidenceHash: EVIDENCE }, bob);
    registry.beforeAppend = (event) => {
      if (event.kind === 'champion_changed') throw new Error('process stopped');
    };
    await expect(useCases.applyCommand('churn', v1, { type: 'promote' }, bob)).rejects.toThrow('process stopped');
    registry.beforeAppend = undefined;
    expect((await registry.getVersion('churn', v1))?.value.state).toBe('approved');
    expect(await useCases.championAt('churn', '2030-01-01T00:00:00.000Z')).toBe(v1);

    await useCases.applyCommand('churn', v1, { type: 'promote' }, bob);
    expect((await registry.getVersion('churn', v1))?.value.state).toBe('production');
    expect(await registry.listAudit('churn', { kind: 'champion_changed' })).toHaveLength(1);
  });

  it('when a registration is retried with the same key, then the first version comes back', async () => {
    const { useCases } = await setup();
    const first = await useCases.registerVersion('churn', aModelVersionInput({ registrationKey: 'run-17' }), alice);
    const again = await useCases.registerVersion('churn', aModelVersionInput({ registrationKey: 'run-17' }), alice);
    const other = await useCases.registerVersion('churn', aModelVersionInput({ registrationKey: 'run-18' }), alice);
    expect(again.version).toBe(first.version);
    expect(other.version).toBe(first.version + 1);
    expect(await useCases.auditLog('churn', { kind: 'version_registered' })).toHaveLength(3);
  });

  it('when the model is rolled back, then the champion goes back one step; without a champion it is illegal', async () => {
    const { useCases, version: v1 } = await setup();
    await expect(useCases.rollbackModel('churn', bob)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    const v2 = (await useCases.registerVersion('churn', aModelVersionInput(), alice)).version;
    for (const v of [v1, v2]) {
      await useCases.applyCommand('churn', v, { type: 'start_validation' }, system);
      await useCases.applyCommand('churn', v, { type: 'pass_validation', evidenceHash: EVIDENCE }, system);
      await useCases.applyCommand('churn', v, { type: 'approve', evidenceHash: EVIDENCE }, bob);
      await useCases.applyCommand('churn', v, { type: 'promote' }, bob);
    }
    const rolledBack = await useCases.rollbackModel('churn', bob, 'bad week');
    expect(rolledBack).toMatchObject({ version: v2, state: 'archived' });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v1, epoch: 3 });
    expect((await useCases.getVersion('churn', v1)).state).toBe('production');
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['production', 'archived']);
  });

  it('when an admin promotes a version at the same moment as its lifecycle does, then both get it in production and there is one promotion', async () => {
    const { registry, useCases, version: v1, events } = await setup();
    const admin = anActor({ id: 'root', roles: ['MLOps.Admin'] });
    await toPendingApproval(useCases, v1);
    await useCases.applyCommand('churn', v1, { type: 'approve', evidenceHash: EVIDENCE }, bob);
    // The lifecycle's promotion swaps the pointer between the admin's check and the admin's swap.
    let lifecycle: Promise<unknown> = Promise.resolve();
    registry.beforeSwapChampion = async () => {
      registry.beforeSwapChampion = undefined;
      lifecycle = useCases.applyCommand('churn', v1, { type: 'promote', reason: 'approved; promoted by the lifecycle' }, system);
      await lifecycle;
    };
    await expect(useCases.applyCommand('churn', v1, { type: 'promote' }, admin)).resolves.toMatchObject({ state: 'production' });
    await expect(lifecycle).resolves.toMatchObject({ state: 'production' });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v1, epoch: 1 });
    expect(events.ofType('champion.changed')).toHaveLength(1);
    expect((await useCases.auditLog('churn', { kind: 'transition' })).filter((e) => e.kind === 'transition' && e.command === 'promote')).toHaveLength(1);
  });

  it('when two admins roll back at the same moment, then the champion goes back one step, once, and both are answered', async () => {
    const { registry, useCases, version: v1 } = await setup();
    const admin = anActor({ id: 'root', roles: ['MLOps.Admin'] });
    const v2 = (await useCases.registerVersion('churn', aModelVersionInput(), alice)).version;
    const v3 = (await useCases.registerVersion('churn', aModelVersionInput(), alice)).version;
    for (const v of [v1, v2, v3]) {
      await toPendingApproval(useCases, v);
      await useCases.applyCommand('churn', v, { type: 'approve', evidenceHash: EVIDENCE }, bob);
      await useCases.applyCommand('churn', v, { type: 'promote' }, admin);
    }
    let other: Promise<unknown> = Promise.resolve();
    registry.beforeSwapChampion = async () => {
      registry.beforeSwapChampion = undefined;
      other = useCases.rollbackModel('churn', anActor({ id: 'root2', roles: ['MLOps.Admin'] }), 'bad week');
      await other;
    };
    await expect(useCases.rollbackModel('churn', admin, 'bad week')).resolves.toMatchObject({ version: v3, state: 'archived' });
    await expect(other).resolves.toMatchObject({ version: v3, state: 'archived' });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v2, previous: [v1] });
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['archived', 'production', 'archived']);
  });

  it('when an admin retires a version while it is being promoted, then the promotion is 409, the old champion keeps serving, and champion commands still work', async () => {
    const { registry, useCases, version: v1, events } = await setup();
    const admin = anActor({ id: 'root', roles: ['MLOps.Admin'] });
    const v2 = (await useCases.registerVersion('churn', aModelVersionInput(), alice)).version;
    const v3 = (await useCases.registerVersion('churn', aModelVersionInput(), alice)).version;
    for (const v of [v1, v2, v3]) {
      await toPendingApproval(useCases, v);
      await useCases.applyCommand('churn', v, { type: 'approve', evidenceHash: EVIDENCE }, bob);
    }
    await useCases.applyCommand('churn', v1, { type: 'promote' }, admin);
    // The retire lands after the promotion checked v2 and before it swapped the pointer.
    registry.beforeSwapChampion = async () => {
      registry.beforeSwapChampion = undefined;
      await useCases.applyCommand('churn', v2, { type: 'retire', reason: 'leaked labels' }, admin);
    };
    await expect(useCases.applyCommand('churn', v2, { type: 'promote' }, admin)).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      message: `version ${v2} of 'churn' was retired while it was becoming the champion: the champion stays version ${v1}`,
    });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v1, previous: [], epoch: 3 });
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['production', 'retired', 'approved']);
    // The ledger says what the pointer did: v2 for a moment, then back to v1 by the registry.
    const changes = await useCases.auditLog('churn', { kind: 'champion_changed' });
    expect(changes.map((e) => (e.kind === 'champion_changed' ? [e.epoch, e.from, e.to, e.cause, e.actor.id] : []))).toEqual([
      [1, null, v1, 'promote', 'root'],
      [2, v1, v2, 'promote', 'root'],
      [3, v2, v1, 'rollback', 'system:registry'],
    ]);
    expect(events.ofType('champion.changed')).toHaveLength(3);
    // Champion commands are not stuck on the retired version.
    await expect(useCases.applyCommand('churn', v3, { type: 'promote' }, admin)).resolves.toMatchObject({ state: 'production' });
    await expect(useCases.rollbackModel('churn', admin, 'back')).resolves.toMatchObject({ version: v3, state: 'archived' });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v1 });
    expect((await useCases.getVersion('churn', v1)).state).toBe('production');
  });

  it('when an admin retires a version after the pointer moved to it but before it entered production, then the promotion is 409, the pointer goes back, and no retired version is champion', async () => {
    const { registry, useCases, v1, v2, admin } = await v1ChampionV2Approved();
    // The retire lands after settling read v2 (still approved) and before its move to production is written.
    onceBeforeEnteringProduction(registry, v2, () => {
      const stored = registry.versions.get(`churn/${v2}`)!.value;
      registry.interfere({ ...stored, state: 'retired', revision: stored.revision + 1 });
    });
    await expect(useCases.applyCommand('churn', v2, { type: 'promote' }, admin)).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      message: `version ${v2} of 'churn' was retired while it was becoming the champion: the champion stays version ${v1}`,
    });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v1, previous: [], epoch: 3 });
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['production', 'retired']);
    const changes = await useCases.auditLog('churn', { kind: 'champion_changed' });
    expect(changes.map((e) => (e.kind === 'champion_changed' ? [e.epoch, e.from, e.to, e.cause, e.actor.id] : []))).toEqual([
      [1, null, v1, 'promote', 'root'],
      [2, v1, v2, 'promote', 'root'],
      [3, v2, v1, 'rollback', 'system:registry'],
    ]);
  });

  it('when the lifecycle expires a version with a reason, then the reason is on its history, the ledger and the event', async () => {
    const { useCases, version, events } = await setup();
    await toPendingApproval(useCases, version);
    const reason = 'no decision by 2026-03-08T00:00:00.000Z: the approval timeout (policies.approval.timeout) is P7D';
    await expect(useCases.applyCommand('churn', version, { type: 'expire', reason }, system)).resolves.toMatchObject({ state: 'expired' });
    expect((await useCases.getVersion('churn', version)).history.at(-1)).toMatchObject({ command: 'expire', to: 'expired', reason });
    expect((await useCases.auditLog('churn', { kind: 'transition' })).at(-1)).toMatchObject({ command: 'expire', reason });
    expect(events.ofType('lifecycle.changed').at(-1)).toMatchObject({ data: { command: 'expire', reason } });
  });

  it('when a promotion stopped after moving the pointer (an outage) and an admin then retires that version, then the promotion is finished first and the retire is 409, so no retired version is champion', async () => {
    const { registry, useCases, v1, v2, admin } = await v1ChampionV2Approved();
    onceBeforeEnteringProduction(registry, v2, () => {
      throw new Error('Cosmos DB unavailable');
    });
    await expect(useCases.applyCommand('churn', v2, { type: 'promote' }, admin)).rejects.toThrow('Cosmos DB unavailable');
    expect((await useCases.getVersion('churn', v2)).state).toBe('approved');

    await expect(useCases.applyCommand('churn', v2, { type: 'retire', reason: 'changed my mind' }, admin)).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      details: { state: 'production' },
    });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v2, previous: [v1], epoch: 2 });
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['archived', 'production']);
  });

  it('when the version a rollback returns to is retired meanwhile, then the rollback is 409 and the current champion stays in production', async () => {
    const { registry, useCases, v1, v2, admin } = await v1ChampionV2Approved();
    await useCases.applyCommand('churn', v2, { type: 'promote' }, admin);
    registry.beforeSwapChampion = async () => {
      registry.beforeSwapChampion = undefined;
      await useCases.applyCommand('churn', v1, { type: 'retire' }, admin);
    };
    await expect(useCases.rollbackModel('churn', admin, 'bad week')).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      message: `version ${v1} of 'churn' was retired while it was becoming the champion: the champion stays version ${v2}`,
    });
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v2, previous: [] });
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['retired', 'production']);
    await expect(useCases.rollbackModel('churn', admin, 'again')).rejects.toMatchObject({ message: 'there is no previous champion to roll back to' });
  });

  it('when a model names a column like one the backend adds, or a prediction column like one of its own, then it is refused with the clash, and nothing is created', async () => {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events: new RecordingPublisher() });
    await expect(useCases.createModel(aModelDefinition({ name: 'clash', segmentKeys: ['plan', 'run_id'] }), alice)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining("the segment key 'run_id' is a column the backend adds to predictions and labelled data (model_version, run_id, source_row, source_file, actual, actuals_id, actuals_row, actuals_at): rename it"),
    });
    await expect(
      useCases.createModel(aModelDefinition({ name: 'clash', segmentKeys: ['plan'], predictionColumns: { prediction: 'plan', probabilityPrefix: 'p_' } }), alice),
    ).rejects.toMatchObject({ message: expect.stringContaining("the prediction column 'plan' is also the segment key") });
    await expect(useCases.createModel(aModelDefinition({ name: 'clash', idColumn: 'source_file' }), alice)).rejects.toMatchObject({
      message: expect.stringContaining("the id column 'source_file' is a column the backend adds"),
    });
    expect(await registry.getModel('clash')).toBeUndefined();
    await expect(useCases.createModel(aModelDefinition({ name: 'clash', segmentKeys: ['plan', 'customer_id'] }), alice)).resolves.toMatchObject({ modelName: 'clash' });
  });

  it('when a definition names a column the model does not have (a drift override, a group split) or one column in two roles, then it is refused naming the column, nothing is created, and a model stored before still reads', async () => {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events: new RecordingPublisher() });
    const good = aModelDefinition({ name: 'refs', timestampColumn: 'ts', segmentKeys: ['plan'] });
    const refused: [Partial<typeof good>, string][] = [
      [{ policies: { drift: { columns: [{ column: 'tenur', method: 'psi' }] } } }, "the drift override names 'tenur', which is not a monitored column of the model (tenure, plan, prediction)"],
      [{ policies: { drift: { columns: [{ column: 'tenure' }, { column: 'tenure', ignore: true }] } } }, "the drift override for 'tenure' is given twice"],
      [{ policies: { validation: { splits: [{ kind: 'group', column: 'plann' }] } } }, "the group split names 'plann', which is not a column of the model (tenure, plan, customer_id, ts)"],
      [{ policies: { validation: { splits: [{ kind: 'group', column: 'actual' }] } } }, 'grouping by the target leaves one class per group'],
      [{ timestampColumn: undefined, policies: { validation: { splits: [{ kind: 'time' }] } } }, 'a time split needs the model to have a timestampColumn'],
      [{ features: [...good.features, { name: 'actual', type: 'numeric' }] }, "the feature 'actual' is also the target column"],
      [{ features: [...good.features, { name: 'customer_id', type: 'categorical' }] }, "the feature 'customer_id' is also the id column"],
      [{ features: [...good.features, { name: 'ts', type: 'datetime' }] }, "the feature 'ts' is also the timestamp column"],
      [{ segmentKeys: ['plan', 'ts'] }, "the segment key 'ts' is also the timestamp column"],
      [{ segmentKeys: ['plan', 'actual'] }, "the segment key 'actual' is also the target column"],
      [{ segmentKeys: ['plan', 'plan'] }, "the segment key 'plan' is named twice"],
      [{ targetColumn: 'customer_id' }, "the target column 'customer_id' is also the id column"],
      [{ features: [...good.features, { name: 'age ', type: 'numeric' }] }, "the column name 'age ' ends with a space: file headers are matched without surrounding spaces, so no file could have it"],
      [{ idColumn: 'customer_id ' }, "the column name 'customer_id ' ends with a space"],
      [{ features: [...good.features, { name: '__proto__', type: 'numeric' }] }, "the column name '__proto__' is reserved: every JavaScript object has a property of that name"],
      [{ features: [...good.features, { name: 'constructor', type: 'categorical' }] }, "the column name 'constructor' is reserved"],
      [{ segmentKeys: ['plan', 'toString'] }, "the column name 'toString' is reserved"],
      [{ idColumn: 'hasOwnProperty' }, "the column name 'hasOwnProperty' is reserved"],
      [{ targetColumn: 'valueOf' }, "the column name 'valueOf' is reserved"],
    ];
    for (const [change, reason] of refused) {
      await expect(useCases.createModel({ ...good, ...change }, alice)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining(reason) });
    }
    const regression = { ...good, task: 'regression' as const, classLabels: undefined, policies: { validation: { splits: [{ kind: 'stratified' as const }] } } };
    await expect(useCases.createModel(regression, alice)).rejects.toMatchObject({ message: expect.stringContaining('a stratified split needs classes') });
    // Not a column, but the same kind of slip: a metric the task does not report is undefined on every validation and window.
    await expect(useCases.createModel({ ...good, policies: { validation: { metric: 'rmse' } } }, alice)).rejects.toMatchObject({
      message: expect.stringContaining("the metric 'rmse' is not one a binary model is measured by (accuracy, precision, recall, f1, f1_macro, f1_weighted, roc_auc, pr_auc, log_loss, brier)"),
    });
    await expect(useCases.createModel({ ...regression, policies: { performance: { metric: 'accuracy' } } }, alice)).rejects.toMatchObject({
      message: expect.stringContaining("the metric 'accuracy' is not one a regression model is measured by"),
    });
    await expect(useCases.createModel({ ...good, task: 'multiclass', classLabels: ['a', 'b', 'c'], policies: { validation: { metric: 'f1' } } }, alice)).rejects.toMatchObject({
      message: expect.stringContaining("the metric 'f1' is not one a multiclass model is measured by"),
    });
    expect(await registry.getModel('refs')).toBeUndefined();

    const named = {
      ...good,
      policies: {
        drift: { columns: [{ column: 'tenure', method: 'psi' as const }, { column: 'plan', ignore: true }, { column: 'prediction', threshold: 0.2 }] },
        validation: { metric: 'pr_auc' as const, splits: [{ kind: 'group' as const, column: 'plan' }, { kind: 'time' as const }, { kind: 'stratified' as const }] },
        performance: { metric: 'log_loss' as const },
      },
    };
    await expect(useCases.createModel(named, alice)).resolves.toMatchObject({ modelName: 'refs' });

    // Stored before the check: it reads and lists as stored.
    const { definition, ...record } = (await registry.getModel('refs'))!;
    const typo = { ...definition, name: 'older', policies: { ...definition.policies, drift: { ...definition.policies.drift, columns: [{ column: 'tenur', ignore: false }] } } };
    await registry.createModel({ ...record, modelName: 'older', definition: typo });
    expect((await useCases.getModel('older')).definition.policies.drift.columns).toEqual([{ column: 'tenur', ignore: false }]);
    expect(await useCases.listModels()).toMatchObject({ models: [{ modelName: 'older' }, { modelName: 'refs' }], unreadable: [] });
  });

  it('when a definition has a field the schema does not know (a typo), at the top, in a policy or in a feature, then it is refused naming it, not stored with defaults', async () => {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events: new RecordingPublisher() });
    const good = aModelDefinition({ name: 'typos' });
    const typos = [
      { ...good, polices: { approval: { autoApprove: true } } },
      { ...good, policies: { drift: { consecutiveWindow: 3 } } },
      { ...good, features: [{ ...good.features[0]!, nullabel: true }, ...good.features.slice(1)] },
    ];
    for (const [i, definition] of typos.entries()) {
      await expect(useCases.createModel(definition as typeof good, alice)).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
        message: expect.stringContaining(['polices', 'consecutiveWindow', 'nullabel'][i]!),
      });
    }
    expect(await registry.getModel('typos')).toBeUndefined();
  });

  it('when the drift policy\'s window is not a whole number of weeks, days, hours or minutes, then the definition is refused at once (not every run of the model later), and nothing is created', async () => {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events: new RecordingPublisher() });
    for (const window of ['P1M', 'P1Y', 'PT30S', 'PT0S', 'P0D']) {
      await expect(useCases.createModel(aModelDefinition({ name: 'windows', policies: { drift: { window } } }), alice)).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
        details: { issues: [expect.objectContaining({ path: 'policies.drift.window', message: expect.stringContaining(`not '${window}'`) })] },
      });
    }
    expect(await registry.getModel('windows')).toBeUndefined();
    await expect(useCases.createModel(aModelDefinition({ name: 'windows', policies: { drift: { window: 'PT1H30M' } } }), alice)).resolves.toMatchObject({
      definition: { policies: { drift: { window: 'PT1H30M' } } },
    });
  });

  it('when the approval timeout is no time at all (PT0S, P0D, under a millisecond), then the definition is refused naming the field, and one stored before still reads', async () => {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events: new RecordingPublisher() });
    for (const timeout of ['PT0S', 'P0D', 'P0Y0M0DT0H0M0S', 'PT0.0001S']) {
      for (const autoApprove of [false, true]) {
        await expect(useCases.createModel(aModelDefinition({ name: 'instant', policies: { approval: { timeout, autoApprove } } }), alice)).rejects.toMatchObject({
          code: 'VALIDATION_ERROR',
          details: { issues: [expect.objectContaining({ path: 'policies.approval.timeout', message: expect.stringContaining(`the approval timeout '${timeout}' is no time at all`) })] },
        });
      }
    }
    expect(await registry.getModel('instant')).toBeUndefined();
    await expect(useCases.createModel(aModelDefinition({ name: 'instant', policies: { approval: { timeout: 'PT0.001S' } } }), alice)).resolves.toMatchObject({
      definition: { policies: { approval: { timeout: 'PT0.001S' } } },
    });

    // Stored before the check: it reads as stored, through the stored schema too.
    const { definition, ...record } = (await registry.getModel('instant'))!;
    const zero = { ...definition, name: 'older', policies: { ...definition.policies, approval: { ...definition.policies.approval, timeout: 'PT0S' } } };
    expect(storedModelDefinitionSchema.parse(zero).policies.approval.timeout).toBe('PT0S');
    await registry.createModel({ ...record, modelName: 'older', definition: zero });
    expect((await useCases.getModel('older')).definition.policies.approval.timeout).toBe('PT0S');
  });

  it('when a feature\'s range has its min above its max, then the definition is refused naming the feature (every value would be out of range), and nothing is created', async () => {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events: new RecordingPublisher() });
    const inverted = [
      { name: 'age', type: 'numeric' as const, range: { min: 120, max: 0 }, strictRange: true },
      { name: 'signup', type: 'datetime' as const, range: { min: '2026-01-01T00:00:00Z', max: '2020-01-01T00:00:00+02:00' } },
    ];
    await expect(useCases.createModel(aModelDefinition({ name: 'ranges', features: inverted }), alice)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: {
        issues: [
          expect.objectContaining({ path: 'features.0.range', message: "the range of 'age' has min 120 above max 0: no value could be inside it" }),
          expect.objectContaining({ path: 'features.1.range', message: expect.stringContaining("the range of 'signup' has min") }),
        ],
      },
    });
    expect(await registry.getModel('ranges')).toBeUndefined();
    // One value is a range; a datetime compares as an instant, whatever its offset.
    const tight = [
      { name: 'age', type: 'numeric' as const, range: { min: 7, max: 7 } },
      { name: 'signup', type: 'datetime' as const, range: { min: '2026-01-01T01:00:00+02:00', max: '2026-01-01T00:00:00Z' } },
    ];
    await expect(useCases.createModel(aModelDefinition({ name: 'ranges', features: tight }), alice)).resolves.toMatchObject({ modelName: 'ranges' });
  });

  it('when a definition is too large for its registry document (thousands of described features), then it is refused saying so, and nothing is created; a large one that fits is created', async () => {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events: new RecordingPublisher() });
    const features = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: 'numeric' as const, description: 'd'.repeat(500) }));
    await expect(useCases.createModel(aModelDefinition({ name: 'wide', features: features(5000) }), alice)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/the definition is \d+ bytes of JSON, more than the 1048576 a model's registry document holds \(5000 features\)/),
    });
    expect(await registry.getModel('wide')).toBeUndefined();
    await expect(useCases.createModel(aModelDefinition({ name: 'wide', features: features(1000) }), alice)).resolves.toMatchObject({ modelName: 'wide' });
  });

  it('when the model is unknown or the timestamp is not one, then the errors say so', async () => {
    const { useCases } = await setup();
    await expect(useCases.applyCommand('nope', 1, { type: 'retire' }, alice)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(useCases.championAt('churn', 'yesterday')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await expect(useCases.applyCommand('churn', 1, { type: 'approve' }, bob)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { issues: [expect.objectContaining({ path: 'evidenceHash', code: 'invalid_type' })] },
    });
  });

  it('when versions move through the lifecycle, then every ledger entry is published once, with its id as event id', async () => {
    const { useCases, version, events, registry } = await setup();
    await toPendingApproval(useCases, version);
    await useCases.applyCommand('churn', version, { type: 'approve', evidenceHash: EVIDENCE, comment: 'looks good' }, bob);
    await useCases.applyCommand('churn', version, { type: 'promote' }, system);
    const ledger = [...registry.ledger.values()];
    expect(events.events.map((e) => e.eventId).sort()).toEqual(ledger.map((e) => e.id).sort());
    expect(events.events.map((e) => e.type)).toEqual([
      'model.created',
      'version.registered',
      'lifecycle.changed',
      'lifecycle.changed',
      'lifecycle.changed',
      // The pointer moves first; the version's promotion follows it.
      'champion.changed',
      'lifecycle.changed',
    ]);
    expect(events.ofType('lifecycle.changed')[2]).toMatchObject({
      version,
      data: { from: 'pending_approval', to: 'approved', command: 'approve', actor: 'bob', evidenceHash: EVIDENCE, reason: 'looks good' },
    });
    expect(events.ofType('champion.changed')[0]).toMatchObject({ data: { epoch: 1, from: null, to: version, cause: 'promote' } });
  });

  it('when a ledger id is longer than a Service Bus message id (a revalidation of a long model name), then it is recorded and published once under a stable shortened event id', async () => {
    const registry = new InMemoryModelRegistry();
    const events = new RecordingPublisher();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events });
    const model = `m${'x'.repeat(62)}`;
    await useCases.createModel(aModelDefinition({ name: model }), alice);
    const { version } = await useCases.registerVersion(model, aModelVersionInput(), alice);
    const outcome = { evidenceHash: sha('new evidence'), decision: 'pass' as const, reason: 'new segment value(s) region=west', at: '2026-03-02T00:00:00.000Z' };

    await useCases.recordRevalidation(model, version, outcome, system);
    await useCases.recordRevalidation(model, version, outcome, system);

    const entryId = `${model}:v${version}:revalidated:${outcome.evidenceHash}`;
    expect(entryId.length).toBeGreaterThan(128);
    expect(await registry.hasAudit(model, entryId)).toBe(true);
    const published = events.ofType('version.revalidated');
    expect(published).toHaveLength(1);
    expect(published[0]!.eventId.length).toBeLessThanOrEqual(128);
    expect(published[0]!.eventId.startsWith(`${model}:v${version}:revalidated:`)).toBe(true);
    expect(published[0]).toMatchObject({ model, version, data: { evidenceHash: outcome.evidenceHash, decision: 'pass' } });
    // Another bundle of the same version is another fact: another event id.
    await useCases.recordRevalidation(model, version, { ...outcome, evidenceHash: sha('newer evidence') }, system);
    expect(new Set(events.ofType('version.revalidated').map((e) => e.eventId)).size).toBe(2);
  });

  it('when publishing model.created fails after the model was stored, then the retry (409) or the first registration writes its ledger entry and event once', async () => {
    for (const finish of ['retried creation', 'registration'] as const) {
      const registry = new InMemoryModelRegistry();
      const events = new RecordingPublisher();
      const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events });
      events.failNext = true;
      await expect(useCases.createModel(aModelDefinition({ name: 'churn' }), alice)).rejects.toThrow('unreachable');
      expect(await registry.hasAudit('churn', 'churn:created')).toBe(false);

      if (finish === 'retried creation') {
        await expect(useCases.createModel(aModelDefinition({ name: 'churn' }), alice)).rejects.toMatchObject({ code: 'MODEL_ALREADY_EXISTS' });
      } else {
        await useCases.registerVersion('churn', aModelVersionInput(), alice);
      }

      const stored = await useCases.getModel('churn');
      const created = await registry.listAudit('churn', { kind: 'model_created' });
      expect(created).toEqual([expect.objectContaining({ id: 'churn:created', actor: expect.objectContaining({ id: 'alice' }), at: stored.createdAt })]);
      expect(events.ofType('model.created')).toEqual([expect.objectContaining({ eventId: 'churn:created', occurredAt: stored.createdAt, data: { actor: 'alice' } })]);
      // The ledger stays in order: the creation comes first.
      expect((await useCases.auditLog('churn')).map((e) => e.kind)[0]).toBe('model_created');
    }
  });

  it('when a manifest is too large for its version to live through its lifecycle (1.5 MB of metrics, 8000 signature inputs), then PAYLOAD_TOO_LARGE naming the part, and nothing is registered', async () => {
    const { registry, useCases, events } = await setup();
    const published = events.events.length;
    const metrics = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`fold_${i}_roc_auc`, 0.8123456789]));
    const inputs = Array.from({ length: 8000 }, (_, i) => ({ name: `feature_with_a_long_descriptive_name_${i}_${'x'.repeat(100)}`, type: 'float32' as const, shape: [-1, 1] }));
    for (const [input, field] of [
      [aModelVersionInput({ trainingMetrics: metrics }), 'trainingMetrics'],
      [aModelVersionInput({ signature: { inputs, outputs: [{ name: 'y', type: 'float32', shape: [-1, 1] }] } }), 'signature'],
    ] as const) {
      await expect(useCases.register('churn', input, alice)).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringContaining(field),
        details: { limit: MAX_REGISTERED_VERSION_BYTES },
      });
    }
    expect((await registry.listVersions('churn')).map((v) => v.version)).toEqual([1]);
    expect(events.events).toHaveLength(published);
    // One within the bound is registered and can still take its whole lifecycle.
    const within = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`fold_${i}_roc_auc`, 0.8123456789]));
    const { version } = await useCases.register('churn', aModelVersionInput({ trainingMetrics: within }), alice);
    await toPendingApproval(useCases, version.version);
    expect((await useCases.applyCommand('churn', version.version, { type: 'approve', evidenceHash: EVIDENCE }, bob)).state).toBe('approved');
  });

  it('when a registration stopped after storing the version (its event failed) and is not retried, then the version\'s first command writes its version_registered entry first, once', async () => {
    const registry = new InMemoryModelRegistry();
    const events = new RecordingPublisher();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock(), events });
    await useCases.createModel(aModelDefinition({ name: 'churn' }), alice);
    events.failNext = true;
    await expect(useCases.registerVersion('churn', aModelVersionInput(), alice)).rejects.toThrow('unreachable');
    const [stored] = await registry.listVersions('churn');
    expect(await registry.hasAudit('churn', 'churn:v1:r0')).toBe(false);

    await useCases.applyCommand('churn', 1, { type: 'retire', reason: 'registered by mistake' }, anActor({ id: 'admin', roles: ['MLOps.Admin'] }));
    await useCases.applyCommand('churn', 1, { type: 'retire', reason: 'registered by mistake' }, anActor({ id: 'admin', roles: ['MLOps.Admin'] }));

    const ledger = await useCases.auditLog('churn', { version: 1 });
    expect(ledger.map((e) => e.id)).toEqual(['churn:v1:r0', 'churn:v1:r1']);
    expect(ledger[0]).toMatchObject({ kind: 'version_registered', actor: { id: 'alice' }, at: stored!.createdAt, artifactSha256: stored!.artifact.sha256 });
    expect(events.ofType('version.registered').map((e) => e.eventId)).toEqual(['churn:v1:r0']);
  });

  it('when publishing fails after the version was written, then nothing is on the ledger and the next command publishes and appends it', async () => {
    const { useCases, version, events, registry } = await setup();
    events.failNext = true;
    await expect(useCases.applyCommand('churn', version, { type: 'start_validation' }, system)).rejects.toThrow('unreachable');
    expect(await registry.hasAudit('churn', `churn:v${version}:r1`)).toBe(false);
    await useCases.applyCommand('churn', version, { type: 'pass_validation', evidenceHash: EVIDENCE }, system);
    expect(events.ofType('lifecycle.changed').map((e) => e.data.command)).toEqual(['start_validation', 'pass_validation']);
    expect(await registry.hasAudit('churn', `churn:v${version}:r1`)).toBe(true);
  });

  it('when the same approver repeats an approval, then the second call answers the version as it is and nothing is written twice', async () => {
    const { useCases, version, events } = await setup();
    await toPendingApproval(useCases, version);
    const first = await useCases.applyCommand('churn', version, { type: 'approve', evidenceHash: EVIDENCE }, bob);
    const again = await useCases.applyCommand('churn', version, { type: 'approve', evidenceHash: EVIDENCE }, bob);
    expect(again).toEqual(first);
    await expect(
      useCases.applyCommand('churn', version, { type: 'approve', evidenceHash: EVIDENCE }, anApprover('carol')),
    ).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    expect(events.ofType('lifecycle.changed').filter((e) => e.data.command === 'approve')).toHaveLength(1);
  });

  it('when the policy auto-approves, then the system approves; otherwise the system is refused', async () => {
    const { useCases, version } = await setup();
    await toPendingApproval(useCases, version);
    await expect(useCases.applyCommand('churn', version, { type: 'approve', evidenceHash: EVIDENCE }, system)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await useCases.createModel(aModelDefinition({ name: 'sandbox', policies: { approval: { autoApprove: true } } }), alice);
    const sandbox = (await useCases.registerVersion('sandbox', aModelVersionInput(), alice)).version;
    await useCases.applyCommand('sandbox', sandbox, { type: 'start_validation' }, system);
    await useCases.applyCommand('sandbox', sandbox, { type: 'pass_validation', evidenceHash: EVIDENCE }, system);
    const approved = await useCases.applyCommand('sandbox', sandbox, { type: 'approve', evidenceHash: EVIDENCE, comment: 'auto' }, system);
    expect(approved.state).toBe('approved');
    expect(approved.history.at(-1)).toMatchObject({ actor: { kind: 'system' }, reason: 'auto' });
  });

  it('when two registrations with one key run at once, then one version is registered and both get it', async () => {
    const { useCases } = await setup();
    const [a, b] = await Promise.all([
      useCases.register('churn', aModelVersionInput({ registrationKey: 'sha:abc' }), alice),
      useCases.register('churn', aModelVersionInput({ registrationKey: 'sha:abc' }), alice),
    ]);
    expect(a.version.version).toBe(b.version.version);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect((await useCases.listVersions('churn')).filter((v) => v.registrationKey === 'sha:abc')).toHaveLength(1);
  });
});
