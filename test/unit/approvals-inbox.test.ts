/**
 * The approver's inbox (shared/usecases/approvals-inbox.ts) over the in-memory registry and lake:
 * versions driven to pending_approval by the registry's own commands, evidence bundles in the
 * lake, and the inbox's `youMayDecide` held against what the approve and reject commands answer.
 */
import { isDomainError } from '../../shared/domain/errors';
import { lakePaths } from '../../shared/domain/lake-paths';
import type { ModelListing } from '../../shared/ports/model-registry';
import type { ValidationEvidence } from '../../shared/schemas/evidence';
import type { Actor, LifecycleState } from '../../shared/schemas/lifecycle';
import type { ModelInput } from '../../shared/schemas/model';
import { approvalsInbox, type ApprovalsInboxRequest } from '../../shared/usecases/approvals-inbox';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { aModelDefinition, aModelVersionInput, anActor, anApprover, sha } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { MemoryLake } from '../support/memory-lake';

const HOUR = 3_600_000;
const NOW = new Date('2026-06-15T12:00:00.000Z');
const carlos = anActor({ id: 'carlos@example.com', roles: ['MLOps.Contributor'] });
const lea = anActor({ id: 'lea@example.com', roles: ['MLOps.Contributor', 'MLOps.Approver'] });
const ana = anApprover('ana@example.com');
const system = anActor({ id: 'system:modelLifecycle', kind: 'system', roles: [] });

/** A split's evidence: the challenger's metric against the champion's on the same rows. */
function split(name: string, challenger: number, champion: number | null): ValidationEvidence['splits'][number] {
  const report = (value: number) => ({ overall: { task: 'binary' as const, rows: 200, metrics: { roc_auc: { value, rows: 200, ci: null } } }, segments: [] });
  return {
    strategy: { kind: 'random', testFraction: 0.2, seed: 42 },
    name,
    rows: 200,
    challenger: report(challenger),
    champion: champion === null ? null : report(champion),
    comparison: {
      decision: 'pass',
      metric: 'roc_auc',
      direction: 'higher',
      challenger,
      champion,
      regressionVsChampion: champion === null ? null : (champion - challenger) / champion,
      checks: [],
      reasons: [],
    },
  };
}

function evidenceOf(model: string, version: number, splits: ValidationEvidence['splits'], champion: number | null): ValidationEvidence {
  return {
    schemaVersion: 1,
    model,
    version,
    validatedAt: '2026-06-01T00:00:00.000Z',
    artifactSha256: sha('artifact'),
    champion: champion === null ? null : { version: champion, artifactSha256: sha('champion') },
    dataset: { path: `datasets/${model}/validation.csv`, rowsRead: 1000, rowsEvaluated: 990, rowsRejected: 4, rowsWithoutActual: 6, rejectionReasons: {} },
    checks: [],
    splits,
    decision: 'pass',
    reasons: [],
  };
}

/** A registry and lake where versions reach pending_approval through the registry's commands, at times the test sets. */
function aWorld() {
  const registry = new InMemoryModelRegistry();
  const lake = new MemoryLake();
  let clock = new Date('2026-06-01T00:00:00.000Z');
  const useCases = new RegistryUseCases({ registry, clock: { now: () => clock } });

  async function model(name: string, approval: NonNullable<ModelInput['policies']>['approval'] = {}) {
    await useCases.createModel(aModelDefinition({ name, policies: { approval } }), carlos);
  }

  /** A version by `registrant` that entered pending_approval at `since`, its evidence in the lake (unless `evidence` is null). */
  async function pendingVersion(name: string, since: string, options: { registrant?: Actor; evidence?: ValidationEvidence | null } = {}) {
    clock = new Date(since);
    const { version } = await useCases.registerVersion(name, aModelVersionInput(), options.registrant ?? carlos);
    const evidence = options.evidence === undefined ? evidenceOf(name, version, [split('random', 0.8, null)], null) : options.evidence;
    const hash = sha(`${name}-${version}-evidence`);
    if (evidence !== null) await lake.write(lakePaths.evidence(name, version, hash), Buffer.from(JSON.stringify(evidence)));
    await useCases.applyCommand(name, version, { type: 'start_validation' }, system);
    await useCases.applyCommand(name, version, { type: 'pass_validation', evidenceHash: hash }, system);
    return { version, hash };
  }

  /** The deadlines running lifecycles report, by `model:version`; a lifecycle not listed reports none. */
  const lifecycleDeadlines = new Map<string, string>();
  let lifecycleDeadline = (model: string, version: number) => Promise.resolve(lifecycleDeadlines.get(`${model}:${version}`));
  const inbox = (actor: Actor, request: Partial<ApprovalsInboxRequest> = {}) =>
    approvalsInbox({ registry, lake, lifecycleDeadline: (model, version) => lifecycleDeadline(model, version) }, { actor, now: NOW, ...request });
  const failLifecycleStatus = () => {
    lifecycleDeadline = () => Promise.reject(new Error('task hub unavailable'));
  };
  /** Status reads that never answer, and an inbox that waits `statusTimeoutMs` for each. */
  const hangLifecycleStatus = (statusTimeoutMs: number) => {
    lifecycleDeadline = () => new Promise<never>(() => undefined);
    return (actor: Actor) => approvalsInbox({ registry, lake, lifecycleDeadline: (model, version) => lifecycleDeadline(model, version), statusTimeoutMs }, { actor, now: NOW });
  };
  return { registry, lake, useCases, model, pendingVersion, inbox, lifecycleDeadlines, failLifecycleStatus, hangLifecycleStatus };
}

describe('approvals inbox', () => {
  it('when versions of several models wait, then each is listed once with its deadline from its own model, soonest first, and versions in other states are not', async () => {
    const world = aWorld();
    await world.model('churn', { timeout: 'P7D' });
    await world.model('fraud', { timeout: 'PT36H' });
    await world.pendingVersion('churn', '2026-06-10T00:00:00.000Z');
    await world.pendingVersion('fraud', '2026-06-14T12:00:00.000Z');
    await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
    // A version that was decided and one still registered are not waiting for anyone.
    const decided = await world.pendingVersion('fraud', '2026-06-13T00:00:00.000Z');
    await world.useCases.applyCommand('fraud', decided.version, { type: 'approve', evidenceHash: decided.hash }, ana);
    await world.useCases.registerVersion('churn', aModelVersionInput(), carlos);

    const { approvals, unreadable } = await world.inbox(ana);
    expect(approvals.map((a) => [a.model, a.version, a.pendingSince, a.deadline, a.timeLeftMs])).toEqual([
      ['fraud', 1, '2026-06-14T12:00:00.000Z', '2026-06-16T00:00:00.000Z', 12 * HOUR],
      ['churn', 1, '2026-06-10T00:00:00.000Z', '2026-06-17T00:00:00.000Z', 36 * HOUR],
      ['churn', 2, '2026-06-15T00:00:00.000Z', '2026-06-22T00:00:00.000Z', 6 * 24 * HOUR + 12 * HOUR],
    ]);
    expect(unreadable).toEqual([]);
  });

  it("when the model's timeout changed while a version waits, then its deadline is the one its lifecycle keeps and reports, and the order follows it", async () => {
    const world = aWorld();
    await world.model('churn', { timeout: 'P3D' });
    await world.model('fraud', { timeout: 'P3D' });
    await world.pendingVersion('churn', '2026-06-14T00:00:00.000Z');
    await world.pendingVersion('fraud', '2026-06-14T12:00:00.000Z');
    // churn's lifecycle read P3D as it started; the policy now says P30D. It still expires the version on the 17th.
    await world.useCases.updateModel('churn', { policies: { approval: { timeout: 'P30D' } } }, anActor({ id: 'adam@example.com', roles: ['MLOps.Admin'] }));
    world.lifecycleDeadlines.set('churn:1', '2026-06-17T00:00:00.000Z');
    const { approvals } = await world.inbox(ana);
    expect(approvals.map((a) => [a.model, a.deadline, a.deadlineSource, a.timeLeftMs])).toEqual([
      ['churn', '2026-06-17T00:00:00.000Z', 'lifecycle', 36 * HOUR],
      ['fraud', '2026-06-17T12:00:00.000Z', 'policy', 48 * HOUR],
    ]);
  });

  it("when no lifecycle reports a deadline, or its status cannot be read, then the deadline is the policy's, which a lifecycle started again keeps", async () => {
    const world = aWorld();
    await world.model('churn', { timeout: 'P3D' });
    await world.pendingVersion('churn', '2026-06-14T00:00:00.000Z');
    expect((await world.inbox(ana)).approvals.map((a) => a.deadline)).toEqual(['2026-06-17T00:00:00.000Z']);
    world.failLifecycleStatus();
    expect((await world.inbox(ana)).approvals.map((a) => [a.deadline, a.deadlineSource])).toEqual([['2026-06-17T00:00:00.000Z', 'policy']]);
  });

  it("when a lifecycle's status does not answer, then the inbox answers within the status timeout with the policy's deadline", async () => {
    const world = aWorld();
    await world.model('churn', { timeout: 'P3D' });
    await world.pendingVersion('churn', '2026-06-14T00:00:00.000Z');
    await world.pendingVersion('churn', '2026-06-14T06:00:00.000Z');
    const started = Date.now();
    const { approvals } = await world.hangLifecycleStatus(50)(ana);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(approvals.map((a) => [a.version, a.deadline, a.deadlineSource])).toEqual([
      [1, '2026-06-17T00:00:00.000Z', 'policy'],
      [2, '2026-06-17T06:00:00.000Z', 'policy'],
    ]);
  });

  it('when a deadline has passed, then the version is still listed, first, with the time left negative', async () => {
    const world = aWorld();
    await world.model('churn', { timeout: 'P1D' });
    await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
    await world.pendingVersion('churn', '2026-06-13T00:00:00.000Z');
    const { approvals } = await world.inbox(ana);
    expect(approvals.map((a) => [a.version, a.timeLeftMs])).toEqual([
      [2, -36 * HOUR],
      [1, 12 * HOUR],
    ]);
  });

  it('when autoApprove is turned on while a version waits, then the version is still listed for a person to decide, and approve accepts that person', async () => {
    const world = aWorld();
    await world.model('sandbox');
    const { version, hash } = await world.pendingVersion('sandbox', '2026-06-15T00:00:00.000Z');
    // Its lifecycle read the policy as it started: it waits for a person's decision, until its deadline.
    await world.useCases.updateModel('sandbox', { policies: { approval: { autoApprove: true } } }, anActor({ id: 'adam@example.com', roles: ['MLOps.Admin'] }));
    const { approvals } = await world.inbox(ana, { model: 'sandbox' });
    expect(approvals.map((a) => [a.model, a.version, a.youMayDecide])).toEqual([['sandbox', version, true]]);
    await expect(world.useCases.applyCommand('sandbox', version, { type: 'approve', evidenceHash: hash }, ana)).resolves.toMatchObject({ state: 'approved' });
  });

  it('when a model approves by itself and nothing of it waits, then it adds nothing to the inbox', async () => {
    const world = aWorld();
    await world.model('sandbox', { autoApprove: true });
    expect(await world.inbox(ana)).toEqual({ approvals: [], unreadable: [] });
  });

  it('when an approver reads the inbox, then each entry carries the hash to quote, the registrant and the evidence decision and headline against the champion', async () => {
    const world = aWorld();
    await world.model('churn');
    const splits = [split('random', 0.8, 0.79), split('kfold:1/3', 0.74, 0.8), split('kfold:2/3', 0.81, 0.8)];
    const { hash } = await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z', { evidence: evidenceOf('churn', 1, splits, 3) });
    const [entry] = (await world.inbox(ana)).approvals;
    expect(entry).toEqual({
      model: 'churn',
      version: 1,
      pendingSince: '2026-06-15T00:00:00.000Z',
      deadline: '2026-06-22T00:00:00.000Z',
      deadlineSource: 'policy',
      timeLeftMs: 6 * 24 * HOUR + 12 * HOUR,
      evidenceHash: hash,
      registeredBy: 'carlos@example.com',
      validation: {
        decision: 'pass',
        validatedAt: '2026-06-01T00:00:00.000Z',
        championVersion: 3,
        rowsEvaluated: 990,
        splits: 3,
        // The fold where the challenger is furthest behind the champion, not the first split.
        headline: { split: 'kfold:1/3', metric: 'roc_auc', direction: 'higher', challenger: 0.74, champion: 0.8, regressionVsChampion: expect.closeTo(0.075, 10) },
      },
      youMayDecide: true,
    });
  });

  it('when the model had no champion, then the headline is the first split, with no champion value and no regression', async () => {
    const world = aWorld();
    await world.model('churn');
    await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z', { evidence: evidenceOf('churn', 1, [split('random', 0.8, null), split('time', 0.7, null)], null) });
    const [entry] = (await world.inbox(ana)).approvals;
    expect(entry!.validation).toMatchObject({
      championVersion: null,
      splits: 2,
      headline: { split: 'random', challenger: 0.8, champion: null, regressionVsChampion: null },
    });
  });

  it("when a version's evidence cannot be read, then it is still listed, with why instead of its summary", async () => {
    const world = aWorld();
    await world.model('churn');
    await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z', { evidence: null });
    await world.pendingVersion('churn', '2026-06-14T00:00:00.000Z');
    const { approvals } = await world.inbox(ana);
    expect(approvals.map((a) => [a.version, a.validation?.decision ?? null, a.evidenceUnreadable ?? null, a.youMayDecide])).toEqual([
      [2, 'pass', null, true],
      [1, null, expect.stringContaining(`evidence/churn/1/`), true],
    ]);
  });

  describe('who may decide', () => {
    it('when the caller registered a version, then they may not decide it (also under their id in other case) but may decide the others', async () => {
      const world = aWorld();
      await world.model('churn');
      await world.pendingVersion('churn', '2026-06-14T00:00:00.000Z', { registrant: lea });
      await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      const asLea = anActor({ ...lea, id: 'LEA@example.com' });
      expect((await world.inbox(asLea)).approvals.map((a) => [a.version, a.registeredBy, a.youMayDecide, a.whyNot])).toEqual([
        [1, 'lea@example.com', false, 'you registered this version (separation of duties)'],
        [2, 'carlos@example.com', true, undefined],
      ]);
    });

    it("when the model's policy names a role the caller lacks, then they may not decide its versions, and one who has it may", async () => {
      const world = aWorld();
      await world.model('fraud', { approverRole: 'Fraud.RiskOfficer' });
      await world.model('churn');
      await world.pendingVersion('fraud', '2026-06-14T00:00:00.000Z');
      await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      expect((await world.inbox(ana)).approvals.map((a) => [a.model, a.youMayDecide, a.whyNot])).toEqual([
        ['fraud', false, "the model's approval policy requires the role 'Fraud.RiskOfficer'"],
        ['churn', true, undefined],
      ]);
      const officer = anActor({ id: 'rik@example.com', roles: ['MLOps.Approver', 'Fraud.RiskOfficer'] });
      expect((await world.inbox(officer)).approvals.map((a) => [a.model, a.youMayDecide])).toEqual([
        ['fraud', true],
        ['churn', true],
      ]);
    });

    it('when the decision routes refuse the caller (no approver role), then that reason is given on every entry, before separation of duties', async () => {
      const world = aWorld();
      await world.model('churn');
      await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      const { approvals } = await world.inbox(carlos, { refusedByRoute: 'approve and reject need the role MLOps.Approver' });
      expect(approvals.map((a) => [a.youMayDecide, a.whyNot])).toEqual([[false, 'approve and reject need the role MLOps.Approver']]);
    });

    it('when a version carries no evidence hash, then nobody may decide it: a decision must quote one', async () => {
      const world = aWorld();
      await world.model('churn');
      const { version } = await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      const stored = (await world.registry.getVersion('churn', version))!.value;
      world.registry.interfere({ ...stored, evidenceHash: undefined });
      const [entry] = (await world.inbox(ana)).approvals;
      expect(entry).toMatchObject({ evidenceHash: null, validation: null, evidenceUnreadable: 'the version carries no evidence hash', youMayDecide: false, whyNot: 'the version carries no evidence hash to quote' });
    });

    it('when callers decide what the inbox offers them, then the commands accept exactly the entries it says they may decide, and refuse the others', async () => {
      const world = aWorld();
      await world.model('churn');
      await world.model('fraud', { approverRole: 'Fraud.RiskOfficer' });
      await world.pendingVersion('churn', '2026-06-14T00:00:00.000Z', { registrant: lea });
      await world.pendingVersion('fraud', '2026-06-14T00:00:00.000Z');
      await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      const officer = anActor({ id: 'rik@example.com', roles: ['MLOps.Approver', 'Fraud.RiskOfficer'] });
      const offered: boolean[] = [];
      for (const caller of [lea, ana, officer]) {
        for (const entry of (await world.inbox(caller)).approvals) {
          offered.push(entry.youMayDecide);
          const decided = await world.useCases
            .applyCommand(entry.model, entry.version, { type: 'reject', evidenceHash: entry.evidenceHash!, reason: 'only asking' }, caller)
            .then(
              () => 'accepted',
              (error: unknown) => (isDomainError(error) ? error.code : error),
            );
          expect([caller.id, entry.model, entry.version, decided]).toEqual([caller.id, entry.model, entry.version, entry.youMayDecide ? 'accepted' : 'FORBIDDEN']);
          // Put it back for the next caller: the registry's own state, not the inbox, is under test here.
          if (decided === 'accepted') {
            const stored = (await world.registry.getVersion(entry.model, entry.version))!.value;
            world.registry.interfere({ ...stored, state: 'pending_approval', revision: stored.revision - 1, history: stored.history.slice(0, -1) });
          }
        }
      }
      // Both answers occurred: the check above is not vacuous.
      expect(new Set(offered)).toEqual(new Set([true, false]));
    });
  });

  describe('filters', () => {
    async function twoModels() {
      const world = aWorld();
      await world.model('churn');
      await world.model('fraud');
      await world.pendingVersion('churn', '2026-06-14T00:00:00.000Z', { registrant: lea });
      await world.pendingVersion('fraud', '2026-06-15T00:00:00.000Z');
      return world;
    }

    it('when one model is asked for, then only its versions are listed', async () => {
      const world = await twoModels();
      expect((await world.inbox(lea, { model: 'fraud' })).approvals.map((a) => a.model)).toEqual(['fraud']);
    });

    it('when a model that does not exist is asked for, then MODEL_NOT_FOUND', async () => {
      const world = await twoModels();
      await expect(world.inbox(lea, { model: 'nope' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    });

    it('when only what the caller may (or may not) decide is asked for, then the others are left out', async () => {
      const world = await twoModels();
      expect((await world.inbox(lea, { youMayDecide: true })).approvals.map((a) => a.model)).toEqual(['fraud']);
      expect((await world.inbox(lea, { youMayDecide: false })).approvals.map((a) => a.model)).toEqual(['churn']);
      expect((await world.inbox(lea)).approvals.map((a) => a.model)).toEqual(['churn', 'fraud']);
    });

    it('when only what the caller may decide is asked for, then the evidence of the others is not read', async () => {
      const world = await twoModels();
      const read: string[] = [];
      const readBuffer = world.lake.readBuffer.bind(world.lake);
      world.lake.readBuffer = (path, range) => {
        read.push(path);
        return readBuffer(path, range);
      };
      const [entry] = (await world.inbox(lea, { youMayDecide: true })).approvals;
      expect(entry).toMatchObject({ model: 'fraud', validation: { decision: 'pass' } });
      expect(read).toEqual([expect.stringMatching(/^evidence\/fraud\/1\//)]);
    });
  });

  describe('models that cannot be read', () => {
    it("when one of a model's waiting versions does not read, then it is listed apart by version with the reason, and that model's other waiting versions and the other models' are still listed", async () => {
      const world = aWorld();
      await world.model('churn');
      await world.model('fraud');
      await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      await world.pendingVersion('churn', '2026-06-15T01:00:00.000Z');
      await world.pendingVersion('churn', '2026-06-15T02:00:00.000Z');
      await world.pendingVersion('fraud', '2026-06-15T00:00:00.000Z');
      const stored = (await world.registry.getVersion('churn', 2))!.value;
      world.registry.storeUncheckedVersion('churn', 2, { ...stored, revision: -1 });
      const inbox = await world.inbox(ana);
      expect(inbox.approvals.map((a) => [a.model, a.version])).toEqual([
        ['churn', 1],
        ['fraud', 1],
        ['churn', 3],
      ]);
      expect(inbox.unreadable).toEqual([{ model: 'churn', version: 2, reason: expect.stringMatching(/^its stored version document is invalid: .*revision/s) }]);
      // With ?model= alike.
      expect((await world.inbox(ana, { model: 'churn' })).unreadable).toEqual(inbox.unreadable);
    });

    it("when one model's pending versions cannot be queried (an outage), then the inbox fails as it does when the model list cannot be read, not a 200 carrying the store's message", async () => {
      const world = aWorld();
      await world.model('churn');
      await world.model('fraud');
      await world.pendingVersion('fraud', '2026-06-15T00:00:00.000Z');
      const query = world.registry.listReadableVersionsInState.bind(world.registry);
      const outage = new Error('Service Unavailable; RequestUri: https://acct.documents.azure.com/dbs/mlops/colls/models/docs; ActivityId: 0f1e');
      world.registry.listReadableVersionsInState = (model: string, state: LifecycleState) => (model === 'churn' ? Promise.reject(outage) : query(model, state));
      await expect(world.inbox(ana)).rejects.toBe(outage);
      await expect(world.inbox(ana, { model: 'churn' })).rejects.toBe(outage);
    });

    it("when a model's stored document does not read, then it is listed apart, also when it is the one asked for", async () => {
      const world = aWorld();
      await world.model('churn');
      await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      world.registry.unreadableModels.set('legacy', 'task: invalid option');
      expect(await world.inbox(ana)).toEqual({
        approvals: [expect.objectContaining({ model: 'churn' })],
        unreadable: [{ model: 'legacy', reason: 'its stored model document is invalid: task: invalid option' }],
      });
      // The same reason with ?model= as without it.
      expect(await world.inbox(ana, { model: 'legacy' })).toEqual({ approvals: [], unreadable: [{ model: 'legacy', reason: 'its stored model document is invalid: task: invalid option' }] });
    });

    it('when the one model asked for cannot be read for an outage, then the inbox fails as it does when the list cannot be read, not a 200 calling the model damaged', async () => {
      const world = aWorld();
      await world.model('churn');
      await world.pendingVersion('churn', '2026-06-15T00:00:00.000Z');
      world.registry.getModel = () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:443'));
      await expect(world.inbox(ana, { model: 'churn' })).rejects.toThrow('ECONNREFUSED');
    });

    it('when the models cannot be listed at all, then the inbox fails: an outage is not an empty inbox', async () => {
      const world = aWorld();
      world.registry.listModels = (): Promise<ModelListing> => Promise.reject(new Error('Cosmos DB unavailable'));
      await expect(world.inbox(ana)).rejects.toThrow('Cosmos DB unavailable');
    });
  });

  it('when the versions of many models are read, then a few queries run at once, not one after another nor all together', async () => {
    const world = aWorld();
    for (let i = 0; i < 20; i++) await world.model(`model-${String(i).padStart(2, '0')}`);
    let running = 0;
    let most = 0;
    const query = world.registry.listReadableVersionsInState.bind(world.registry);
    world.registry.listReadableVersionsInState = async (model: string, state: LifecycleState) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return query(model, state);
    };
    expect(await world.inbox(ana)).toEqual({ approvals: [], unreadable: [] });
    expect(most).toBe(8);
  });
});
