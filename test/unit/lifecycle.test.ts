import { DomainError, isDomainError } from '../../shared/domain/errors';
import {
  applyTransition,
  championAtFromEvents,
  championChangeEffects,
  decisionRefusal,
  emptyChampion,
  isReplayOfLastTransition,
  planPromotion,
  planRollback,
  transition,
  type TransitionContext,
} from '../../shared/domain/lifecycle';
import type { AnyLifecycleCommand, LifecycleCommandType, LifecycleState } from '../../shared/schemas/lifecycle';
import type { ChampionChangedEvent } from '../../shared/schemas/registry';
import { aModelVersion, anActor, anApprover, APPROVER_ROLE, sha, theSystem } from '../support/builders';

const NOW = '2026-03-01T12:00:00.000Z';
const EVIDENCE = sha('evidence-1');
const approverContext: TransitionContext = { actor: anApprover(), approverRole: APPROVER_ROLE, now: NOW };

const ALL_STATES: LifecycleState[] = [
  'registered',
  'validating',
  'validation_failed',
  'pending_approval',
  'approved',
  'rejected',
  'expired',
  'production',
  'archived',
  'retired',
];

/** One well-formed command of each type (approvals quote the evidence on the version). */
const COMMANDS: Record<LifecycleCommandType, AnyLifecycleCommand> = {
  start_validation: { type: 'start_validation' },
  pass_validation: { type: 'pass_validation', evidenceHash: EVIDENCE },
  fail_validation: { type: 'fail_validation', reason: 'roc_auc below threshold' },
  approve: { type: 'approve', evidenceHash: EVIDENCE },
  reject: { type: 'reject', evidenceHash: EVIDENCE, reason: 'segment north regressed' },
  expire: { type: 'expire' },
  promote: { type: 'promote' },
  archive: { type: 'archive' },
  rollback: { type: 'rollback' },
  restore: { type: 'restore' },
  retire: { type: 'retire' },
};

/** The legal transitions, written out from the specification (issue 2), independently of the code. */
const LEGAL: [LifecycleState, LifecycleCommandType, LifecycleState][] = [
  ['registered', 'start_validation', 'validating'],
  ['validating', 'pass_validation', 'pending_approval'],
  ['validating', 'fail_validation', 'validation_failed'],
  ['pending_approval', 'approve', 'approved'],
  ['pending_approval', 'reject', 'rejected'],
  ['pending_approval', 'expire', 'expired'],
  ['approved', 'promote', 'production'],
  ['production', 'archive', 'archived'],
  ['production', 'rollback', 'archived'],
  ['archived', 'restore', 'production'],
  // retire: from every state except production (and retired, which is final)
  ['registered', 'retire', 'retired'],
  ['validating', 'retire', 'retired'],
  ['validation_failed', 'retire', 'retired'],
  ['pending_approval', 'retire', 'retired'],
  ['approved', 'retire', 'retired'],
  ['rejected', 'retire', 'retired'],
  ['expired', 'retire', 'retired'],
  ['archived', 'retire', 'retired'],
];

const legalTarget = (state: LifecycleState, command: LifecycleCommandType) =>
  LEGAL.find(([s, c]) => s === state && c === command)?.[2];

const ALL_PAIRS = ALL_STATES.flatMap((state) =>
  (Object.keys(COMMANDS) as LifecycleCommandType[]).map((command) => ({ state, command, to: legalTarget(state, command) })),
);

describe('lifecycle state machine', () => {
  it('when the table is enumerated, then it has every (state, command) pair', () => {
    expect(ALL_PAIRS).toHaveLength(10 * 11);
    expect(ALL_PAIRS.filter((p) => p.to !== undefined)).toHaveLength(LEGAL.length);
  });

  describe.each(ALL_PAIRS.filter((p) => p.to !== undefined))('legal: $state --$command--> $to', ({ state, command, to }) => {
    it('when applied, then the version moves and the audit event records it', () => {
      const version = aModelVersion({ state, evidenceHash: EVIDENCE, revision: 4 });
      const result = transition(version, COMMANDS[command], approverContext);
      if (isDomainError(result)) throw result;
      expect(result.state).toBe(to);
      expect(result.event).toMatchObject({
        id: 'churn:v1:r5',
        kind: 'transition',
        modelName: 'churn',
        version: 1,
        revision: 5,
        command,
        from: state,
        to,
        actor: anApprover(),
        at: NOW,
      });
    });
  });

  describe.each(ALL_PAIRS.filter((p) => p.to === undefined))('illegal: $state --$command-->', ({ state, command }) => {
    it('when applied, then ILLEGAL_TRANSITION names the state and the command', () => {
      const version = aModelVersion({ state, evidenceHash: EVIDENCE });
      const result = transition(version, COMMANDS[command], approverContext);
      expect(result).toBeInstanceOf(DomainError);
      expect(result).toMatchObject({ code: 'ILLEGAL_TRANSITION', details: { state, command } });
    });
  });

  describe('approval guards', () => {
    const pending = aModelVersion({ state: 'pending_approval', evidenceHash: EVIDENCE, registrant: 'alice@example.com' });

    it.each(['approve', 'reject'] as const)('when %s comes from a user without the approver role, then FORBIDDEN', (type) => {
      const result = transition(pending, COMMANDS[type], { ...approverContext, actor: anActor({ id: 'carol', roles: ['reader'] }) });
      expect(result).toMatchObject({ code: 'FORBIDDEN', details: { requiredRole: APPROVER_ROLE } });
    });

    it.each(['approve', 'reject'] as const)('when %s comes from the system, then FORBIDDEN even with the role', (type) => {
      const result = transition(pending, COMMANDS[type], { ...approverContext, actor: { ...theSystem(), roles: [APPROVER_ROLE] } });
      expect(result).toMatchObject({ code: 'FORBIDDEN' });
    });

    it('when the policy auto-approves, then the system may approve but still not reject, and only the evidence on the version', () => {
      const auto = { ...approverContext, actor: theSystem(), autoApprove: true };
      expect(transition(pending, COMMANDS.approve, auto)).toMatchObject({ state: 'approved', event: { actor: { kind: 'system' } } });
      expect(transition(pending, COMMANDS.reject, auto)).toMatchObject({ code: 'FORBIDDEN' });
      const stale = { type: 'approve', evidenceHash: sha('evidence-0') } as AnyLifecycleCommand;
      expect(transition(pending, stale, auto)).toMatchObject({ code: 'EVIDENCE_MISMATCH' });
    });

    it('when validation fails with evidence, then the version keeps that evidence hash for people to read', () => {
      const validating = aModelVersion({ state: 'validating' });
      const command: AnyLifecycleCommand = { type: 'fail_validation', reason: 'segment north regressed', evidenceHash: EVIDENCE };
      const result = transition(validating, command, approverContext);
      if (result instanceof DomainError) throw result;
      expect(applyTransition(validating, command, result)).toMatchObject({ state: 'validation_failed', evidenceHash: EVIDENCE });
      expect(result.event.evidenceHash).toBe(EVIDENCE);
    });

    it('when the same person repeats their last decision, then it is a replay; another person or other evidence is not', () => {
      const result = transition(pending, COMMANDS.approve, approverContext);
      if (result instanceof DomainError) throw result;
      const approved = applyTransition(pending, COMMANDS.approve, result);
      expect(isReplayOfLastTransition(approved, COMMANDS.approve, anApprover())).toBe(true);
      expect(isReplayOfLastTransition(approved, COMMANDS.approve, anApprover('dave@example.com'))).toBe(false);
      expect(isReplayOfLastTransition(approved, { type: 'approve', evidenceHash: sha('evidence-0') }, anApprover())).toBe(false);
      expect(isReplayOfLastTransition(approved, COMMANDS.reject, anApprover())).toBe(false);
    });

    it.each(['approve', 'reject'] as const)('when the registrant %ss their own version, then FORBIDDEN (separation of duties)', (type) => {
      const result = transition(pending, COMMANDS[type], {
        ...approverContext,
        actor: anActor({ id: 'alice@example.com', roles: [APPROVER_ROLE] }),
      });
      expect(result).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/separation of duties/) });
    });

    it.each([
      ['in case', 'Alice@Example.COM'],
      ['by surrounding whitespace', ' alice@example.com\t'],
      ['in Unicode form (fullwidth letters)', 'ａｌｉｃｅ@example.com'],
    ])('when the registrant decides under an id that differs only %s, then FORBIDDEN all the same', (_how, id) => {
      for (const type of ['approve', 'reject'] as const) {
        const result = transition(pending, COMMANDS[type], { ...approverContext, actor: anActor({ id, roles: [APPROVER_ROLE] }) });
        expect(result).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/separation of duties/) });
      }
      // Another person is not caught by the comparison.
      expect(transition(pending, COMMANDS.approve, { ...approverContext, actor: anActor({ id: 'alicia@example.com', roles: [APPROVER_ROLE] }) })).toMatchObject({ state: 'approved' });
    });

    it.each(['approve', 'reject'] as const)('when %s quotes other evidence than the version has, then EVIDENCE_MISMATCH', (type) => {
      const command = { ...COMMANDS[type], evidenceHash: sha('evidence-0') } as AnyLifecycleCommand;
      const result = transition(pending, command, approverContext);
      expect(result).toMatchObject({ code: 'EVIDENCE_MISMATCH', details: { expected: EVIDENCE, received: sha('evidence-0') } });
    });

    it('when the version carries no evidence, then an approval is EVIDENCE_MISMATCH', () => {
      const result = transition(aModelVersion({ state: 'pending_approval' }), COMMANDS.approve, approverContext);
      expect(result).toMatchObject({ code: 'EVIDENCE_MISMATCH' });
    });

    it('when the state is wrong, then ILLEGAL_TRANSITION is reported before the role is checked', () => {
      const result = transition(aModelVersion({ state: 'approved' }), COMMANDS.approve, {
        ...approverContext,
        actor: anActor({ id: 'nobody' }),
      });
      expect(result).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    });

    it('when the policy names another approver role, then that role is required', () => {
      const result = transition(pending, COMMANDS.approve, { ...approverContext, approverRole: 'risk-officer' });
      expect(result).toMatchObject({ code: 'FORBIDDEN', details: { requiredRole: 'risk-officer' } });
    });

    it('when the decision rule is asked alone (as the approvals inbox asks it), then it names the refusal the command meets, and none where the command passes', () => {
      const rules = { approverRole: 'risk-officer' };
      const cases = [
        { actor: anActor({ id: 'carol', roles: [APPROVER_ROLE] }), refusal: { rule: 'approver_role', requiredRole: 'risk-officer' } },
        { actor: anActor({ id: 'ALICE@example.com', roles: ['risk-officer'] }), refusal: { rule: 'registrant' } },
        { actor: anActor({ id: 'dave', roles: ['risk-officer'] }), refusal: undefined },
      ];
      for (const { actor, refusal } of cases) {
        for (const type of ['approve', 'reject'] as const) {
          expect(decisionRefusal(pending, type, actor, rules)).toEqual(refusal);
          const outcome = transition(pending, COMMANDS[type], { ...approverContext, ...rules, actor });
          expect(isDomainError(outcome) ? outcome.code : 'allowed').toBe(refusal ? 'FORBIDDEN' : 'allowed');
        }
      }
      expect(decisionRefusal(pending, 'approve', theSystem(), { ...rules, autoApprove: true })).toBeUndefined();
      expect(decisionRefusal(pending, 'reject', theSystem(), { ...rules, autoApprove: true })).toEqual({ rule: 'approver_role', requiredRole: 'risk-officer' });
    });

    it('when a rejection is allowed, then its reason is on the event', () => {
      const result = transition(pending, COMMANDS.reject, approverContext);
      if (isDomainError(result)) throw result;
      expect(result.event).toMatchObject({ reason: 'segment north regressed', evidenceHash: EVIDENCE });
    });
  });

  describe('applying a transition', () => {
    it('when validation passes, then the version carries the evidence hash and golden records path', () => {
      const validating = aModelVersion({ state: 'validating', revision: 1 });
      const command: AnyLifecycleCommand = {
        type: 'pass_validation',
        evidenceHash: EVIDENCE,
        goldenRecordsPath: 'models/churn/1/golden-records.parquet',
      };
      const result = transition(validating, command, { ...approverContext, actor: theSystem() });
      if (isDomainError(result)) throw result;
      const next = applyTransition(validating, command, result);
      expect(next).toMatchObject({
        state: 'pending_approval',
        evidenceHash: EVIDENCE,
        goldenRecordsPath: 'models/churn/1/golden-records.parquet',
        revision: 2,
        updatedAt: NOW,
      });
      expect(next.history).toEqual([result.event]);
      expect(validating.state).toBe('validating');
    });
  });
});

describe('champion pointer', () => {
  const alice = anApprover('alice');

  it('when the first version is promoted, then it is champion with nothing to roll back to', () => {
    const next = planPromotion(emptyChampion('churn', NOW), 1, alice, NOW);
    expect(next).toMatchObject({ version: 1, previous: [], epoch: 1, since: NOW });
    expect(next.lastChange).toMatchObject({ id: 'churn:champion:1', from: null, to: 1, cause: 'promote' });
  });

  it('when a second version is promoted, then the first becomes the one to roll back to', () => {
    const first = planPromotion(emptyChampion('churn', NOW), 1, alice, NOW);
    const second = planPromotion(first, 2, alice, '2026-03-02T00:00:00.000Z');
    expect(second).toMatchObject({ version: 2, previous: [1], epoch: 2 });
    expect(championChangeEffects(second.lastChange!)).toEqual([
      { version: 2, command: { type: 'promote', reason: undefined }, target: 'production' },
      { version: 1, command: { type: 'archive' }, target: 'archived' },
    ]);
  });

  it('when the clock goes backwards, then the change is stamped no earlier than the previous one', () => {
    const first = planPromotion(emptyChampion('churn', NOW), 1, alice, NOW);
    const second = planPromotion(first, 2, alice, '2026-02-01T00:00:00.000Z');
    expect(second.since).toBe(NOW);
  });

  it('when rolling back, then the latest archived previous champion returns and retired ones are skipped', () => {
    let pointer = planPromotion(emptyChampion('churn', NOW), 1, alice, NOW);
    pointer = planPromotion(pointer, 2, alice, NOW);
    pointer = planPromotion(pointer, 3, alice, NOW);
    const states: Record<number, LifecycleState> = { 1: 'archived', 2: 'retired' };
    const next = planRollback(pointer, (v) => states[v], alice, NOW, 'bad week');
    if (isDomainError(next)) throw next;
    expect(next).toMatchObject({ version: 1, previous: [], epoch: 4 });
    expect(next.lastChange).toMatchObject({ from: 3, to: 1, cause: 'rollback', reason: 'bad week' });
    expect(championChangeEffects(next.lastChange!)).toEqual([
      { version: 1, command: { type: 'restore' }, target: 'production' },
      { version: 3, command: { type: 'rollback', reason: 'bad week' }, target: 'archived' },
    ]);
  });

  it('when there is no champion or no previous one, then a rollback is ILLEGAL_TRANSITION', () => {
    expect(planRollback(emptyChampion('churn', NOW), () => undefined, alice, NOW)).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    const only = planPromotion(emptyChampion('churn', NOW), 1, alice, NOW);
    expect(planRollback(only, () => 'archived', alice, NOW)).toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      message: expect.stringMatching(/no previous champion/),
    });
  });

  it('when asked for the champion at T, then the latest change at or before T answers', () => {
    const change = (epoch: number, to: number | null, at: string): ChampionChangedEvent => ({
      id: `churn:champion:${epoch}`,
      kind: 'champion_changed',
      modelName: 'churn',
      epoch,
      from: null,
      to,
      cause: 'promote',
      actor: alice,
      at,
    });
    const events = [
      change(2, 2, '2026-01-02T00:00:00.000Z'),
      change(1, 1, '2026-01-01T00:00:00.000Z'),
      change(4, 2, '2026-01-03T00:00:00.000Z'),
      change(3, 3, '2026-01-03T00:00:00.000Z'),
    ];
    expect(championAtFromEvents(events, '2025-12-31T23:59:59.999Z')).toBeNull();
    expect(championAtFromEvents(events, '2026-01-01T00:00:00.000Z')).toBe(1);
    expect(championAtFromEvents(events, '2026-01-01T23:00:00.000Z')).toBe(1);
    expect(championAtFromEvents(events, '2026-01-02T00:00:00.000Z')).toBe(2);
    // Offsets are compared as instants, not as strings.
    expect(championAtFromEvents(events, '2026-01-01T23:00:00.000-02:00')).toBe(2);
    // Two changes in the same millisecond: the later epoch wins.
    expect(championAtFromEvents(events, '2026-01-03T00:00:00.000Z')).toBe(2);
  });
});
