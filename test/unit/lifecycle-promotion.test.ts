import type { Clock } from '../../shared/ports/clock';
import { autoApproveVersion, promoteApprovedVersion } from '../../shared/usecases/lifecycle-promotion';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { aModelDefinition, aModelVersionInput, anActor, anApprover, sha, theSystem } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';

/** A clock that advances one second per reading, so every step has its own time. */
function steppingClock(start = Date.parse('2026-03-01T00:00:00.000Z')): Clock {
  let t = start;
  return { now: () => new Date((t += 1000)) };
}

const alice = anActor({ id: 'alice' });
const bob = anApprover('bob');
const admin = anActor({ id: 'root', roles: ['MLOps.Admin'] });
const lifecycleActor = { id: 'system:modelLifecycle', kind: 'system' as const, roles: [] };
const EVIDENCE = sha('evidence');

/** Two approved versions of `churn`, neither champion yet. */
async function twoApproved() {
  const registry = new InMemoryModelRegistry();
  const useCases = new RegistryUseCases({ registry, clock: steppingClock() });
  await useCases.createModel(aModelDefinition({ name: 'churn' }), alice);
  const versions: number[] = [];
  for (let i = 0; i < 2; i++) {
    const { version } = await useCases.registerVersion('churn', aModelVersionInput(), alice);
    await useCases.applyCommand('churn', version, { type: 'start_validation' }, theSystem());
    await useCases.applyCommand('churn', version, { type: 'pass_validation', evidenceHash: EVIDENCE }, theSystem());
    await useCases.applyCommand('churn', version, { type: 'approve', evidenceHash: EVIDENCE }, bob);
    versions.push(version);
  }
  return { registry, useCases, v1: versions[0]!, v2: versions[1]! };
}

describe("the lifecycle's promotion racing another champion change", () => {
  it('when an admin promotes another version and wins the champion race, then the lifecycle answers its version approved with the reason, instead of failing', async () => {
    const { registry, useCases, v1, v2 } = await twoApproved();
    // The admin's promotion of v1 swaps the pointer between the lifecycle's check and its swap.
    let adminPromotion: Promise<unknown> = Promise.resolve();
    registry.beforeSwapChampion = async () => {
      registry.beforeSwapChampion = undefined;
      adminPromotion = useCases.applyCommand('churn', v1, { type: 'promote' }, admin);
      await adminPromotion;
    };
    const promoted = await promoteApprovedVersion(useCases, { model: 'churn', version: v2 }, lifecycleActor);
    await expect(adminPromotion).resolves.toMatchObject({ version: v1, state: 'production' });
    expect(promoted.version).toMatchObject({ version: v2, state: 'approved' });
    expect(promoted.reason).toBe(
      `another champion change won the race while the lifecycle promoted version ${v2}: version ${v1} is the champion (promote by root); ` +
        `version ${v2} stays approved: an admin promotes it with POST /models/churn/promote`,
    );
    expect(await useCases.getChampion('churn')).toMatchObject({ version: v1, epoch: 1 });
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['production', 'approved']);
    // The documented way on: an admin promotes it.
    await expect(useCases.applyCommand('churn', v2, { type: 'promote' }, admin)).resolves.toMatchObject({ state: 'production' });
  });

  it('when an admin turned promoteOnApproval off after the lifecycle started, then its promotion leaves the version approved for an admin, with the reason, and the champion as it was', async () => {
    const { useCases, v2 } = await twoApproved();
    await useCases.updateModel('churn', { policies: { approval: { promoteOnApproval: false } }, reason: 'change freeze' }, admin);
    const promoted = await promoteApprovedVersion(useCases, { model: 'churn', version: v2 }, lifecycleActor);
    expect(promoted.version).toMatchObject({ version: v2, state: 'approved' });
    expect(promoted.reason).toMatch(
      new RegExp(`^the model's approval policy no longer promotes on approval: promoteOnApproval was turned off after this lifecycle started \\(the definition is at revision 1, updated at .+\\); version ${v2} stays approved: an admin promotes it with POST /models/churn/promote$`),
    );
    expect(await useCases.getChampion('churn')).toMatchObject({ version: null });
    // Turned on again, the promotion goes ahead.
    await useCases.updateModel('churn', { policies: { approval: { promoteOnApproval: true } } }, admin);
    await expect(promoteApprovedVersion(useCases, { model: 'churn', version: v2 }, lifecycleActor)).resolves.toMatchObject({ version: { version: v2, state: 'production' } });
  });

  it('when the lifecycle wins the champion race, then its version is in production with no reason and the admin gets CONCURRENCY_CONFLICT', async () => {
    const { registry, useCases, v1, v2 } = await twoApproved();
    let lifecycle: Promise<Awaited<ReturnType<typeof promoteApprovedVersion>>> | undefined;
    registry.beforeSwapChampion = async () => {
      registry.beforeSwapChampion = undefined;
      lifecycle = promoteApprovedVersion(useCases, { model: 'churn', version: v2 }, lifecycleActor);
      await lifecycle;
    };
    await expect(useCases.applyCommand('churn', v1, { type: 'promote' }, admin)).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
    const promoted = await lifecycle!;
    expect(promoted.version).toMatchObject({ version: v2, state: 'production' });
    expect(promoted.reason).toBeUndefined();
    expect((await useCases.listVersions('churn')).map((v) => v.state)).toEqual(['approved', 'production']);
  });

  it('when the version was retired before the lifecycle promotes it, then the answer is the version as it is, without a reason', async () => {
    const { useCases, v2 } = await twoApproved();
    await useCases.applyCommand('churn', v2, { type: 'retire', reason: 'superseded' }, admin);
    const promoted = await promoteApprovedVersion(useCases, { model: 'churn', version: v2 }, lifecycleActor);
    expect(promoted).toEqual({ version: expect.objectContaining({ version: v2, state: 'retired' }) });
  });
});

describe("the lifecycle's own approval under a policy updated since it started", () => {
  /** A version of a model that auto-approves, validated and waiting in pending_approval. */
  async function pendingUnderAutoApprove() {
    const registry = new InMemoryModelRegistry();
    const useCases = new RegistryUseCases({ registry, clock: steppingClock() });
    await useCases.createModel(aModelDefinition({ name: 'churn', policies: { approval: { autoApprove: true } } }), alice);
    const { version } = await useCases.registerVersion('churn', aModelVersionInput(), alice);
    await useCases.applyCommand('churn', version, { type: 'start_validation' }, theSystem());
    await useCases.applyCommand('churn', version, { type: 'pass_validation', evidenceHash: EVIDENCE }, theSystem());
    return { useCases, version };
  }

  it('when the policy still auto-approves, then the lifecycle approves the version', async () => {
    const { useCases, version } = await pendingUnderAutoApprove();
    expect(await autoApproveVersion(useCases, { model: 'churn', version }, EVIDENCE, lifecycleActor)).toMatchObject({ state: 'approved' });
  });

  it('when an admin turned autoApprove off after the lifecycle read it, then the version stays pending_approval for a person, not a failure', async () => {
    const { useCases, version } = await pendingUnderAutoApprove();
    await useCases.updateModel('churn', { policies: { approval: { autoApprove: false } } }, admin);
    const answered = await autoApproveVersion(useCases, { model: 'churn', version }, EVIDENCE, lifecycleActor);
    expect(answered).toMatchObject({ state: 'pending_approval' });
    expect((await useCases.auditLog('churn', { version })).map((e) => (e.kind === 'transition' ? e.command : e.kind))).not.toContain('approve');
  });

  it('when the system is refused for another reason (the policy still auto-approves), then the refusal stands', async () => {
    const { useCases, version } = await pendingUnderAutoApprove();
    const impostor = { id: 'system:modelLifecycle', kind: 'user' as const, roles: [] };
    await expect(autoApproveVersion(useCases, { model: 'churn', version }, EVIDENCE, impostor)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
