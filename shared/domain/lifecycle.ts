import type {
  Actor,
  AnyLifecycleCommand,
  LifecycleCommandType,
  LifecycleState,
  TransitionEvent,
} from '../schemas/lifecycle';
import type { ModelVersion } from '../schemas/model-version';
import type { AuditEvent, AuditEventKind, ChampionChangedEvent, ChampionPointer } from '../schemas/registry';
import { DomainError, errors } from './errors';

/**
 * The lifecycle state machine: pure, no I/O. The registry use cases call it on the freshest
 * stored version before every write, so a stale write that retries re-checks the guards.
 */

/** Legal (state, command) -> next state. Anything not listed is ILLEGAL_TRANSITION. */
export const TRANSITIONS: Readonly<
  Record<LifecycleState, Partial<Record<LifecycleCommandType, LifecycleState>>>
> = {
  registered: { start_validation: 'validating', retire: 'retired' },
  validating: {
    pass_validation: 'pending_approval',
    fail_validation: 'validation_failed',
    retire: 'retired',
  },
  validation_failed: { retire: 'retired' },
  pending_approval: { approve: 'approved', reject: 'rejected', expire: 'expired', retire: 'retired' },
  approved: { promote: 'production', retire: 'retired' },
  rejected: { retire: 'retired' },
  expired: { retire: 'retired' },
  production: { archive: 'archived', rollback: 'archived' },
  archived: { restore: 'production', retire: 'retired' },
  retired: {},
};

export interface TransitionContext {
  actor: Actor;
  /** The model's approval policy: which role may approve or reject. */
  approverRole: string;
  /** The model's approval policy lets the system approve (development models). */
  autoApprove?: boolean;
  /** ISO timestamp of the transition. */
  now: string;
}

export interface Transition {
  state: LifecycleState;
  event: TransitionEvent;
}

export const transitionEventId = (model: string, version: number, revision: number): string =>
  `${model}:v${version}:r${revision}`;

/** The next state and its audit event, or the DomainError saying why the command is refused. */
export function transition(
  version: ModelVersion,
  command: AnyLifecycleCommand,
  context: TransitionContext,
): Transition | DomainError {
  const from = version.state;
  const to = TRANSITIONS[from][command.type];
  const where = { model: version.modelName, version: version.version, state: from, command: command.type };
  if (to === undefined) {
    return errors.illegalTransition(`cannot ${command.type} a version that is ${from}`, where);
  }
  if (command.type === 'approve' || command.type === 'reject') {
    const refusal = decisionGuard(version, command.type, command.evidenceHash, context, where);
    if (refusal) return refusal;
  }
  const revision = version.revision + 1;
  const event: TransitionEvent = {
    id: transitionEventId(version.modelName, version.version, revision),
    kind: 'transition',
    modelName: version.modelName,
    version: version.version,
    revision,
    command: command.type,
    from,
    to,
    actor: context.actor,
    at: context.now,
  };
  if ('evidenceHash' in command) event.evidenceHash = command.evidenceHash;
  if ('reason' in command && command.reason !== undefined) event.reason = command.reason;
  if (command.type === 'approve' && command.comment !== undefined) event.reason = command.comment;
  return { state: to, event };
}

/** Why an actor may not approve or reject a version, whatever evidence they quote. */
export type DecisionRefusal =
  | { rule: 'approver_role'; requiredRole: string }
  | { rule: 'registrant' };

/**
 * Who may decide on a version: a user with the role the model's approval policy names, who did not
 * register it (separation of duties); the system may only approve, and only when the policy says
 * so (autoApprove). Undefined when `actor` may. The approve and reject commands are refused by this
 * rule, and the approvals inbox (GET /approvals) asks it, so the inbox never offers a decision the
 * commands would refuse.
 */
export function decisionRefusal(
  version: Pick<ModelVersion, 'registrant'>,
  decision: 'approve' | 'reject',
  actor: Actor,
  rules: Pick<TransitionContext, 'approverRole' | 'autoApprove'>,
): DecisionRefusal | undefined {
  const systemMayApprove = actor.kind === 'system' && decision === 'approve' && rules.autoApprove === true;
  if (!systemMayApprove && (actor.kind !== 'user' || !actor.roles.includes(rules.approverRole))) {
    return { rule: 'approver_role', requiredRole: rules.approverRole };
  }
  if (sameIdentity(actor.id, version.registrant)) return { rule: 'registrant' };
  return undefined;
}

/** Approve and reject: who may decide (decisionRefusal), and the evidence the approver saw. */
function decisionGuard(
  version: ModelVersion,
  decision: 'approve' | 'reject',
  evidenceHash: string,
  context: TransitionContext,
  where: Record<string, unknown>,
): DomainError | undefined {
  const { actor } = context;
  const refusal = decisionRefusal(version, decision, actor, context);
  if (refusal?.rule === 'approver_role') {
    return errors.forbidden(
      `only a user with the role '${refusal.requiredRole}' may decide on a version`,
      {
        ...where,
        actor: actor.id,
        requiredRole: refusal.requiredRole,
      },
    );
  }
  if (refusal?.rule === 'registrant') {
    return errors.forbidden(
      'the registrant of a version may not approve or reject it (separation of duties)',
      {
        ...where,
        actor: actor.id,
      },
    );
  }
  if (version.evidenceHash !== evidenceHash) {
    return errors.evidenceMismatch(
      'the evidence hash does not match the validation evidence on the version',
      {
        ...where,
        expected: version.evidenceHash ?? null,
        received: evidenceHash,
      },
    );
  }
  return undefined;
}

/**
 * Whether two actor ids name the same person for separation of duties: user names, e-mail
 * addresses and object ids are case-insensitive in Entra ID, and one person's id may reach us in
 * different case, Unicode form or with stray whitespace depending on the claim that carried it.
 */
export function sameIdentity(a: string, b: string): boolean {
  const canonical = (id: string) => id.normalize('NFKC').trim().toLowerCase();
  return canonical(a) === canonical(b);
}

/** The version after a transition has been applied (pure). */
export function applyTransition(
  version: ModelVersion,
  command: AnyLifecycleCommand,
  result: Transition,
): ModelVersion {
  const next: ModelVersion = {
    ...version,
    state: result.state,
    revision: result.event.revision,
    updatedAt: result.event.at,
    history: [...version.history, result.event],
  };
  if (command.type === 'pass_validation') {
    next.evidenceHash = command.evidenceHash;
    if (command.goldenRecordsPath !== undefined) next.goldenRecordsPath = command.goldenRecordsPath;
  }
  if (command.type === 'fail_validation' && command.evidenceHash !== undefined) next.evidenceHash = command.evidenceHash;
  return next;
}

/**
 * When the version entered `pending_approval` (its last transition there; `updatedAt` for a version
 * without one): the approval deadline runs from here, whoever computes it and whenever.
 */
export const pendingSince = (version: Pick<ModelVersion, 'history' | 'updatedAt'>): string =>
  version.history.filter((t) => t.to === 'pending_approval').at(-1)?.at ?? version.updatedAt;

/** When the version was approved (its last transition to `approved`; `updatedAt` for a version without one). */
export const approvedSince = (version: Pick<ModelVersion, 'history' | 'updatedAt'>): string =>
  version.history.filter((t) => t.to === 'approved').at(-1)?.at ?? version.updatedAt;

/**
 * Whether `command` by `actor` is the version's last transition again (a retried request or
 * activity): same command, same actor and, where there is one, the same evidence. A replay is
 * answered with the version as it is instead of ILLEGAL_TRANSITION.
 */
export function isReplayOfLastTransition(version: ModelVersion, command: AnyLifecycleCommand, actor: Actor): boolean {
  const last = version.history[version.history.length - 1];
  if (!last || last.command !== command.type || last.actor.id !== actor.id || last.to !== version.state) return false;
  const evidence = 'evidenceHash' in command ? command.evidenceHash : undefined;
  return evidence === undefined || last.evidenceHash === evidence;
}

/** The champion pointer before any promotion. */
export function emptyChampion(model: string, now: string): ChampionPointer {
  return { modelName: model, version: null, previous: [], epoch: 0, since: now };
}

export const championEventId = (model: string, epoch: number): string => `${model}:champion:${epoch}`;

/** Ledger timestamps never go backwards, even if clocks do, so "champion at T" is well defined. */
function monotonic(now: string, since: string): string {
  return Date.parse(now) >= Date.parse(since) ? now : since;
}

/** The pointer after promoting `version`: the current champion becomes the one to roll back to. */
export function planPromotion(
  pointer: ChampionPointer,
  version: number,
  actor: Actor,
  now: string,
  reason?: string,
): ChampionPointer {
  const change = championChange(pointer, version, 'promote', actor, now, reason);
  const previous = pointer.version === null ? pointer.previous : [...pointer.previous, pointer.version];
  return {
    modelName: pointer.modelName,
    version,
    previous,
    epoch: change.epoch,
    since: change.at,
    lastChange: change,
  };
}

/** The ledger event moving the pointer from its current version to `to`, one epoch later. */
function championChange(
  pointer: ChampionPointer,
  to: number | null,
  cause: ChampionChangedEvent['cause'],
  actor: Actor,
  now: string,
  reason: string | undefined,
): ChampionChangedEvent {
  const epoch = pointer.epoch + 1;
  const change: ChampionChangedEvent = {
    id: championEventId(pointer.modelName, epoch),
    kind: 'champion_changed',
    modelName: pointer.modelName,
    epoch,
    from: pointer.version,
    to,
    cause,
    actor,
    at: monotonic(now, pointer.since),
  };
  if (reason !== undefined) change.reason = reason;
  return change;
}

/**
 * The pointer after rolling back: the most recent previous champion still `archived` returns
 * (retired ones are dropped from the stack); the current champion is not pushed, so a second
 * rollback goes further back instead of bouncing.
 */
export function planRollback(
  pointer: ChampionPointer,
  stateOf: (version: number) => LifecycleState | undefined,
  actor: Actor,
  now: string,
  reason?: string,
): ChampionPointer | DomainError {
  const where = { model: pointer.modelName, champion: pointer.version };
  if (pointer.version === null) {
    return errors.illegalTransition('the model has no champion to roll back', where);
  }
  const stack = [...pointer.previous];
  let target: number | undefined;
  while (stack.length > 0 && target === undefined) {
    const candidate = stack.pop()!;
    if (stateOf(candidate) === 'archived') target = candidate;
  }
  if (target === undefined) {
    return errors.illegalTransition('there is no previous champion to roll back to', where);
  }
  const change = championChange(pointer, target, 'rollback', actor, now, reason);
  return {
    modelName: pointer.modelName,
    version: target,
    previous: stack,
    epoch: change.epoch,
    since: change.at,
    lastChange: change,
  };
}

/**
 * Whether the pointer names a version that can never serve: its last change made a version
 * champion that was retired before the change was settled (an admin retired it while it was being
 * promoted or rolled back to). `incomingState` is the state of the version the change made champion.
 */
export function championChangeVoided(pointer: ChampionPointer, incomingState: LifecycleState | undefined): boolean {
  return pointer.lastChange !== undefined && pointer.lastChange.to !== null && pointer.version === pointer.lastChange.to && incomingState === 'retired';
}

/**
 * The pointer after undoing its last change (one epoch later, recorded as a rollback): the
 * version it replaced is champion again, with the stack of previous champions it had.
 */
export function planRevert(pointer: ChampionPointer, actor: Actor, now: string, reason: string): ChampionPointer {
  const undone = pointer.lastChange;
  if (!undone) throw new Error('planRevert: the pointer has no change to undo');
  const change = championChange(pointer, undone.from, 'rollback', actor, now, reason);
  const pushed = undone.cause === 'promote' && undone.from !== null && pointer.previous[pointer.previous.length - 1] === undone.from;
  return {
    modelName: pointer.modelName,
    version: undone.from,
    previous: pushed ? pointer.previous.slice(0, -1) : [...pointer.previous],
    epoch: change.epoch,
    since: change.at,
    lastChange: change,
  };
}

/**
 * The transitions that follow a champion change, as (version, command, expected state after):
 * the new champion enters production, the old one leaves it.
 */
export function championChangeEffects(
  change: ChampionChangedEvent,
): { version: number; command: AnyLifecycleCommand; target: LifecycleState }[] {
  const effects: { version: number; command: AnyLifecycleCommand; target: LifecycleState }[] = [];
  if (change.to !== null) {
    effects.push({
      version: change.to,
      command: change.cause === 'promote' ? { type: 'promote', reason: change.reason } : { type: 'restore' },
      target: 'production',
    });
  }
  if (change.from !== null) {
    effects.push({
      version: change.from,
      command: change.cause === 'promote' ? { type: 'archive' } : { type: 'rollback', reason: change.reason },
      target: 'archived',
    });
  }
  return effects;
}

/**
 * Whether an effect of a champion change still has to be applied to a version in `state`: the new
 * champion until it is in production, the old one while it still is (it may since have been
 * archived and retired, which also takes it out of production).
 */
export function effectPending(effect: { target: LifecycleState }, state: LifecycleState): boolean {
  return effect.target === 'production' ? state !== 'production' : state === 'production';
}

/** Answers "which version was champion at T" from champion_changed events (any order). */
export function championAtFromEvents(events: readonly ChampionChangedEvent[], at: string): number | null {
  const t = Date.parse(at);
  let best: ChampionChangedEvent | undefined;
  for (const e of events) {
    if (Date.parse(e.at) <= t && (best === undefined || e.epoch > best.epoch)) best = e;
  }
  return best?.to ?? null;
}

const LEDGER_KIND_ORDER: Record<AuditEventKind, number> = {
  model_created: 0,
  version_registered: 1,
  champion_changed: 2,
  transition: 3,
  version_revalidated: 4,
  model_updated: 5,
};

/**
 * The order every ledger store lists entries in: oldest first; at equal times by kind, then by id
 * with numbers compared as numbers (`v2:r10` after `v2:r9`), so the order is stable.
 */
export function compareLedgerEntries(a: AuditEvent, b: AuditEvent): number {
  const byTime = Date.parse(a.at) - Date.parse(b.at);
  if (byTime !== 0) return byTime;
  if (a.kind !== b.kind) return LEDGER_KIND_ORDER[a.kind] - LEDGER_KIND_ORDER[b.kind];
  return a.id.localeCompare(b.id, 'en', { numeric: true });
}

/**
 * The order a ledger is paged in: by the stored `at` as text (what a store can order and compare a
 * page's key with; time order for times as the app writes them, UTC with milliseconds), entries of
 * one `at` as compareLedgerEntries has them. For such times it is compareLedgerEntries' order.
 */
export function compareLedgerPageOrder(a: AuditEvent, b: AuditEvent): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return compareLedgerEntries(a, b);
}

/** A ledger filter's time bound as the app writes times (UTC ISO 8601 with milliseconds), to compare with stored `at` text. */
export const ledgerTimeBound = (iso: string): string => new Date(Date.parse(iso)).toISOString();
