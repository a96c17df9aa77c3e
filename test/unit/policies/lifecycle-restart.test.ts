import { MAX_APPROVAL_AGE_TO_PROMOTE_MS, MAX_LIFECYCLE_RESTARTS, PROMOTE_ON_APPROVAL_PATH, promoteOnApprovalBefore, promotionRefusal, restartRefusal } from '../../../shared/domain/policies/lifecycle-restart';
import type { TransitionEvent } from '../../../shared/schemas/lifecycle';
import type { LifecycleRestart } from '../../../shared/schemas/model-version';
import type { ChampionPointer } from '../../../shared/schemas/registry';

const restart = (at: string): LifecycleRestart => ({ at, state: 'registered', cause: "the orchestration instance 'lifecycle:demand:4' ended (Failed) without recording the outcome" });
const restarts = (count: number) => Array.from({ length: count }, (_, i) => restart(`2026-03-0${i + 1}T00:00:00.000Z`));

describe('restartRefusal', () => {
  it('when a version was never restarted, or fewer times than the limit, then it may be started again', () => {
    expect(restartRefusal({ modelName: 'demand' }, 'registered', 'lifecycle:demand:4')).toBeUndefined();
    expect(restartRefusal({ modelName: 'demand', lifecycleRestarts: restarts(MAX_LIFECYCLE_RESTARTS - 1) }, 'pending_approval', 'lifecycle:demand:4')).toBeUndefined();
  });

  it('when a registered version was restarted as often as the limit, then it is refused with the last restart and what a person does about a version not validated', () => {
    expect(restartRefusal({ modelName: 'demand', lifecycleRestarts: restarts(MAX_LIFECYCLE_RESTARTS) }, 'registered', 'lifecycle:demand:4')).toBe(
      `its lifecycle was started again ${MAX_LIFECYCLE_RESTARTS} times already (the last at 2026-03-0${MAX_LIFECYCLE_RESTARTS}T00:00:00.000Z), and ended again, so it is left for a person: read why in the history of 'lifecycle:demand:4' (GET /runtime/webhooks/durabletask/instances/{instanceId}?showHistory=true), then retire the version, and once the cause is fixed register the package again as a new version (a new Idempotency-Key, or a changed manifest)`,
    );
  });
});

describe('promotionRefusal', () => {
  const APPROVED_AT = '2026-03-10T10:00:00.000Z';
  const NOW = new Date('2026-03-10T12:00:00.000Z');
  const approval = { at: APPROVED_AT, to: 'approved' } as TransitionEvent;
  const version = { modelName: 'demand', version: 4, history: [approval], updatedAt: '2026-03-10T11:00:00.000Z' };
  const pointer = (since: string, epoch = 2): ChampionPointer => ({
    modelName: 'demand',
    version: 2,
    previous: [3],
    epoch,
    since,
    lastChange: { id: `demand:champion:${epoch}`, kind: 'champion_changed', modelName: 'demand', epoch, from: 3, to: 2, cause: 'rollback', actor: { id: 'carol@example.com', kind: 'user', roles: [] }, at: since },
  });

  it('when no champion ever was, or the last change came before the approval, and nothing was approved later within the age, then it may be promoted', () => {
    expect(promotionRefusal(version, { now: NOW, champion: undefined })).toBeUndefined();
    expect(promotionRefusal(version, { now: NOW, champion: { modelName: 'demand', version: null, previous: [], epoch: 0, since: '2026-03-10T11:30:00.000Z' } })).toBeUndefined();
    expect(promotionRefusal(version, { now: NOW, champion: pointer('2026-03-10T09:59:59.999Z') })).toBeUndefined();
  });

  it('when the champion changed at the very time of the approval (a race the lifecycle lost), then it is refused naming the change', () => {
    expect(promotionRefusal(version, { now: NOW, champion: pointer(APPROVED_AT) })).toBe(
      `the champion changed at ${APPROVED_AT} (rollback to version 2 by carol@example.com), after its approval at ${APPROVED_AT}: promoting it now would undo that change, so it is left for a person: promote it with POST /models/demand/promote, or retire it`,
    );
  });

  it('when the approval is older than the maximum age by a millisecond, then it is refused; at the maximum, it is not', () => {
    const at = (ms: number) => new Date(Date.parse(APPROVED_AT) + ms);
    expect(promotionRefusal(version, { now: at(MAX_APPROVAL_AGE_TO_PROMOTE_MS), champion: undefined })).toBeUndefined();
    expect(promotionRefusal(version, { now: at(MAX_APPROVAL_AGE_TO_PROMOTE_MS + 1), champion: undefined })).toMatch(/^it was approved at 2026-03-10T10:00:00.000Z, more than 7 days ago/);
  });

  it('when the version has no approval in its history (written before histories), then its approval time is its last update', () => {
    expect(promotionRefusal({ ...version, history: [] }, { now: NOW, champion: pointer('2026-03-10T10:30:00.000Z') })).toBeUndefined();
    expect(promotionRefusal({ ...version, history: [] }, { now: NOW, champion: pointer('2026-03-10T11:00:00.000Z') })).toMatch(/after its approval at 2026-03-10T11:00:00.000Z/);
  });
});

describe('promoteOnApprovalBefore', () => {
  it('when an update changed promoteOnApproval, then it answers the value before; an update that did not touch it answers nothing', () => {
    expect(promoteOnApprovalBefore({ changes: [{ path: 'description', from: '', to: 'x' }, { path: PROMOTE_ON_APPROVAL_PATH, from: false, to: true }] })).toEqual({ wasOn: false });
    expect(promoteOnApprovalBefore({ changes: [{ path: PROMOTE_ON_APPROVAL_PATH, from: true, to: false }] })).toEqual({ wasOn: true });
    expect(promoteOnApprovalBefore({ changes: [{ path: 'policies.approval.autoApprove', from: false, to: true }, { path: 'policies.approval.promoteOnApprovalX', from: true, to: false }] })).toBeUndefined();
  });

  it('when a parent of the path changed whole, then the value is read inside it, and a parent whose change leaves it alone answers nothing', () => {
    const approval = (promoteOnApproval: boolean, timeout = 'P7D') => ({ timeout, approverRole: 'MLOps.Approver', autoApprove: false, promoteOnApproval });
    expect(promoteOnApprovalBefore({ changes: [{ path: 'policies.approval', from: approval(false), to: approval(true) }] })).toEqual({ wasOn: false });
    expect(promoteOnApprovalBefore({ changes: [{ path: 'policies', from: { approval: approval(true) }, to: { approval: approval(false) } }] })).toEqual({ wasOn: true });
    expect(promoteOnApprovalBefore({ changes: [{ path: 'policies.approval', from: approval(true), to: approval(true, 'P1D') }] })).toBeUndefined();
  });

  it('when the entry cannot tell the value before (truncated to a preview, absent, not a boolean), then it answers that it changed and the value is not known', () => {
    expect(promoteOnApprovalBefore({ changes: [{ path: 'policies', from: '{"approval":{"promoteOnApproval":false… (5000 characters of JSON)', to: '{"approval"… (5000 characters of JSON)', truncated: true }] })).toEqual({ wasOn: undefined });
    expect(promoteOnApprovalBefore({ changes: [{ path: 'policies.approval', to: { promoteOnApproval: true } }] })).toEqual({ wasOn: undefined });
    expect(promoteOnApprovalBefore({ changes: [{ path: PROMOTE_ON_APPROVAL_PATH, from: 'yes', to: true }] })).toEqual({ wasOn: undefined });
  });
});

describe('promotionRefusal by the approval policy the approval was given under', () => {
  const APPROVED_AT = '2026-03-10T10:00:00.000Z';
  const NOW = new Date('2026-03-10T12:00:00.000Z');
  const version = { modelName: 'demand', version: 4, history: [{ at: APPROVED_AT, to: 'approved' } as TransitionEvent], updatedAt: APPROVED_AT };
  const then = 'so it is left for a person: promote it with POST /models/demand/promote, or retire it';

  it('when promoteOnApproval was on before its first change since the approval, or never changed since, then it may be promoted', () => {
    expect(promotionRefusal(version, { now: NOW, champion: undefined, promoteOnApprovalChange: { at: '2026-03-10T11:00:00.000Z', revision: 3, wasOn: true } })).toBeUndefined();
    expect(promotionRefusal(version, { now: NOW, champion: undefined, promoteOnApprovalChange: undefined })).toBeUndefined();
  });

  it('when it was off, not known, or not read, then it is refused saying which', () => {
    expect(promotionRefusal(version, { now: NOW, champion: undefined, promoteOnApprovalChange: { at: '2026-03-10T11:00:00.000Z', revision: 3, wasOn: false } })).toBe(
      `it was approved at ${APPROVED_AT} while the model's approval policy left promotion to an admin (promoteOnApproval was turned on at 2026-03-10T11:00:00.000Z, revision 3), ${then}`,
    );
    expect(promotionRefusal(version, { now: NOW, champion: undefined, promoteOnApprovalChange: { at: '2026-03-10T11:00:00.000Z', revision: 3, wasOn: undefined } })).toBe(
      `the model's update at 2026-03-10T11:00:00.000Z (revision 3) changed policies.approval.promoteOnApproval after its approval at ${APPROVED_AT}, and its ledger entry does not say what it was before, so whether the approval was to promote it is not known and it is left for a person: promote it with POST /models/demand/promote, or retire it`,
    );
    expect(promotionRefusal(version, { now: NOW, champion: undefined, promoteOnApprovalChange: { unread: 1000 } })).toBe(
      `the model was updated more than 1000 times since its approval at ${APPROVED_AT}, too often to read whether its approval policy had promoteOnApproval then, ${then}`,
    );
  });
});
