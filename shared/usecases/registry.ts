import { documentBytes } from '../domain/document-size';
import { DomainError, errors, isDomainError, parseOrThrow } from '../domain/errors';
import { modelEventOf } from '../domain/ledger-events';
import {
  applyTransition,
  championAtFromEvents,
  championChangeEffects,
  championChangeVoided,
  effectPending,
  emptyChampion,
  isReplayOfLastTransition,
  planPromotion,
  planRevert,
  planRollback,
  transition,
  type TransitionContext,
} from '../domain/lifecycle';
import type { Clock } from '../ports/clock';
import type { EventPublisher } from '../ports/event-publisher';
import type { AuditFilter, AuditPage, ModelListing, ModelPage, ModelRegistry, Versioned } from '../ports/model-registry';
import type { PageRequest } from '../ports/paging';
import {
  type Actor,
  type ActorInput,
  actorSchema,
  type AnyLifecycleCommand,
  type LifecycleCommand,
  lifecycleCommandSchema,
  type LifecycleState,
} from '../schemas/lifecycle';
import { type ModelVersion, modelVersionInputSchema } from '../schemas/model-version';
import type { AuditEvent, AuditEventKind, ChampionChangedEvent, ChampionPointer, ModelRecord } from '../schemas/registry';
import { checkOutputColumns } from './column-clashes';
import { modelUpdatedEntry, parseModelUpdate, planModelUpdate } from './model-update';
import { newModelDefinitionSchema } from './new-model-definition';

export interface RegistryDependencies {
  registry: ModelRegistry;
  clock: Clock;
  /** Where ledger entries are published as events (`model-events`); none in offline tools. */
  events?: EventPublisher;
}

/** What the model's approval policy lets whom decide. */
interface ApprovalRules {
  approverRole: string;
  autoApprove: boolean;
}

/** The actor of what the registry does by itself (undoing a champion change that cannot stand). */
const REGISTRY_ACTOR: Actor = { id: 'system:registry', kind: 'system', roles: [] };

/**
 * The largest version a registration may store, as JSON: its document grows with every transition
 * (its history) and must stay within what the store holds (MAX_DOCUMENT_BYTES), or the version
 * could be registered and then never validated.
 */
export const MAX_REGISTERED_VERSION_BYTES = 1024 * 1024;

/** Attempts of one ETag-guarded version write before CONCURRENCY_CONFLICT reaches the caller. */
const MAX_WRITE_ATTEMPTS = 25;

/**
 * Registry operations: create models, register versions, and apply lifecycle commands. Each
 * command is decided by the pure state machine on the freshest stored version and written with
 * its ETag; a stale write re-reads and decides again. Promotion and rollback move the champion
 * pointer first (one ETag-guarded write decides who wins), then bring the versions' states and
 * the ledger in line; any later champion operation finishes an interrupted one first.
 *
 * Every ledger entry is also published as an event: published first, then appended, so an entry
 * missing from the ledger is one whose event may not have gone out; the next command on the
 * version (or champion) publishes and appends it. Event ids are the entries' ids, so the topic
 * drops a publish repeated by that recovery.
 */
export class RegistryUseCases {
  constructor(private readonly deps: RegistryDependencies) {}

  /** Creates a model from its definition (defaults applied). MODEL_ALREADY_EXISTS if taken. */
  async createModel(input: unknown, actorInput: ActorInput): Promise<ModelRecord> {
    const definition = parseOrThrow(newModelDefinitionSchema, input, 'model definition');
    checkOutputColumns(definition);
    const actor = parseOrThrow(actorSchema, actorInput, 'actor');
    const now = this.now();
    let record: ModelRecord;
    try {
      record = await this.deps.registry.createModel({
        modelName: definition.name,
        definition,
        createdAt: now,
        updatedAt: now,
        createdBy: actor.id,
        latestVersion: 0,
      });
    } catch (error) {
      // A retry of a call that stored the model and then failed to publish or append its entry
      // meets 409 from here on: finish that entry before answering, or it would never be written.
      if (isDomainError(error) && error.code === 'MODEL_ALREADY_EXISTS') {
        const stored = await this.deps.registry.getModel(definition.name);
        if (stored) await this.recordCreation(stored);
      }
      throw error;
    }
    await this.recordCreation(record, actor);
    return record;
  }

  /**
   * Updates the model's definition with a JSON merge patch (RFC 7396) of its mutable fields and
   * answers the model as stored. A change of a field stored data depends on, or a definition
   * `createModel` would refuse, is VALIDATION_ERROR naming the fields; with `ifRevisions` (an HTTP
   * If-Match), a model at another revision is PRECONDITION_FAILED. The write is a read-modify-write
   * under the document's ETag, redone on a concurrent write (another update, a registration), so
   * concurrent updates of different fields all land. A patch that changes nothing writes nothing
   * (`updated` false). The document keeps the update's ledger entry (`lastUpdate`) and the entry is
   * recorded after the write: an update interrupted between the two is finished by the next update
   * (a retry answers as a no-op, having recorded it) or the model's next registration.
   */
  async updateModel(
    model: string,
    input: unknown,
    actorInput: ActorInput,
    options: { ifRevisions?: readonly number[] } = {},
  ): Promise<{ model: ModelRecord; updated: boolean }> {
    const update = parseModelUpdate(input);
    const actor = parseOrThrow(actorSchema, actorInput, 'actor');
    for (let attempt = 1; ; attempt++) {
      const stored = await this.deps.registry.readModel(model);
      if (!stored) throw errors.modelNotFound(model);
      await this.recordModelEntries(stored.value);
      const revision = stored.value.revision ?? 0;
      if (options.ifRevisions && !options.ifRevisions.includes(revision)) {
        throw errors.preconditionFailed(`model '${model}' is at revision ${revision}, not the one the request names: read it again and decide on what it is now`, { model, revision });
      }
      const plan = planModelUpdate(stored.value.definition, update);
      if (plan.changes.length === 0) return { model: stored.value, updated: false };
      // Never stamped before the model's last change, so the ledger's order is the order of updates.
      const at = laterOf(this.now(), stored.value.updatedAt);
      const entry = modelUpdatedEntry(model, revision + 1, plan, actor, at);
      let written: Versioned<ModelRecord>;
      try {
        written = await this.deps.registry.replaceModel({ ...stored.value, definition: plan.definition, updatedAt: at, revision: revision + 1, lastUpdate: entry }, stored.etag);
      } catch (error) {
        if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT') || attempt >= MAX_WRITE_ATTEMPTS) throw error;
        await backoff(attempt);
        continue;
      }
      await this.record(entry);
      return { model: written.value, updated: true };
    }
  }

  /** The entries a model's document says are due (its creation, its last update): finishes an interrupted creation or update. */
  private async recordModelEntries(model: ModelRecord): Promise<void> {
    await this.recordCreation(model);
    if (model.lastUpdate) await this.record(model.lastUpdate);
  }

  /**
   * The model's `model_created` entry. Without the creating actor (finishing an interrupted
   * creation) it is the stored `createdBy`, as a user: only people create models.
   */
  private recordCreation(model: ModelRecord, actor: Actor = { id: model.createdBy, kind: 'user', roles: [] }): Promise<void> {
    return this.record({ id: `${model.modelName}:created`, kind: 'model_created', modelName: model.modelName, actor, at: model.createdAt });
  }

  /** `register`, for callers that only need the version. */
  async registerVersion(model: string, input: unknown, actorInput: ActorInput): Promise<ModelVersion> {
    return (await this.register(model, input, actorInput)).version;
  }

  /**
   * Registers a version with the next free number; it starts in `registered`. `input` may depend
   * on the number (paths in the version's folder). With a `registrationKey`, repeated and
   * concurrent calls register one version and all return it (`created` is false for those that
   * found it).
   */
  async register(
    model: string,
    /** The version input, or a function of the version number (for paths in its folder). */
    input: unknown,
    actorInput: ActorInput,
  ): Promise<{ version: ModelVersion; created: boolean }> {
    const inputFor = typeof input === 'function' ? (input as (version: number) => unknown) : () => input;
    const versionInput = parseOrThrow(modelVersionInputSchema, inputFor(1), 'model version');
    checkRegisteredSize(versionInput);
    const actor = parseOrThrow(actorSchema, actorInput, 'actor');
    // A creation or update whose ledger entry failed is finished before its model's versions are recorded.
    await this.recordModelEntries(await this.requireModel(model));
    const now = this.now();
    const { value: version, created } = await this.deps.registry.registerVersion(
      model,
      (number) => ({
        ...(number === 1 ? versionInput : parseOrThrow(modelVersionInputSchema, inputFor(number), 'model version')),
        modelName: model,
        version: number,
        registrant: actor.id,
        state: 'registered',
        revision: 0,
        createdAt: now,
        updatedAt: now,
        history: [],
      }),
      versionInput.registrationKey === undefined ? {} : { registrationKey: versionInput.registrationKey },
    );
    // Also when found: the call that stored it may have stopped before its ledger entry.
    await this.recordRegistration(version, created ? actor : undefined);
    return { version, created };
  }

  /**
   * The version's `version_registered` entry. Without the registering actor (finishing an
   * interrupted registration) it is the stored registrant, as a user.
   */
  private recordRegistration(version: ModelVersion, actor: Actor = { id: version.registrant, kind: 'user', roles: [] }): Promise<void> {
    return this.record({
      id: `${version.modelName}:v${version.version}:r0`,
      kind: 'version_registered',
      modelName: version.modelName,
      version: version.version,
      actor: { ...actor, id: version.registrant },
      at: version.createdAt,
      artifactSha256: version.artifact.sha256,
    });
  }

  /**
   * Applies a lifecycle command to a version and returns it afterwards. `promote` and `rollback`
   * also move the champion pointer; a repeated promote or rollback that already took effect
   * returns the version as it is.
   */
  async applyCommand(model: string, version: number, commandInput: unknown, actorInput: ActorInput): Promise<ModelVersion> {
    const command = parseOrThrow(lifecycleCommandSchema, commandInput, 'lifecycle command');
    const actor = parseOrThrow(actorSchema, actorInput, 'actor');
    const record = await this.requireModel(model);
    const policy = record.definition.policies.approval;
    const rules: ApprovalRules = { approverRole: policy.approverRole, autoApprove: policy.autoApprove };
    switch (command.type) {
      case 'promote':
        return this.promote(model, version, command, actor, rules);
      case 'rollback':
        return this.rollback(model, version, command, actor, rules);
      case 'retire':
        // A champion change interrupted after its pointer swap (an outage) names a version still
        // approved or archived: finish it first, so that a version the pointer serves is in
        // production and refused, instead of a retired version left as the champion.
        await this.settledChampion(model, rules);
        return this.transitionVersion(model, version, command, actor, rules);
      default:
        return this.transitionVersion(model, version, command, actor, rules);
    }
  }

  /**
   * Records that a version was validated again on new evidence (its state stays): a ledger entry
   * and a `version.revalidated` event, once per evidence bundle.
   */
  async recordRevalidation(
    model: string,
    version: number,
    outcome: { evidenceHash: string; decision: 'pass' | 'fail'; reason: string; at: string },
    actorInput: ActorInput,
  ): Promise<void> {
    const actor = parseOrThrow(actorSchema, actorInput, 'actor');
    await this.requireVersion(model, version);
    await this.record({
      id: `${model}:v${version}:revalidated:${outcome.evidenceHash}`,
      kind: 'version_revalidated',
      modelName: model,
      version,
      actor,
      at: outcome.at,
      evidenceHash: outcome.evidenceHash,
      decision: outcome.decision,
      reason: boundedReason(outcome.reason),
    });
  }

  /**
   * Rolls the model back to its previous champion: `rollback` applied to the current champion.
   * ILLEGAL_TRANSITION when there is no champion or nothing to return to.
   */
  async rollbackModel(model: string, actorInput: ActorInput, reason?: string): Promise<ModelVersion> {
    const champion = await this.getChampion(model);
    if (champion.version === null) {
      throw errors.illegalTransition(`model '${model}' has no champion to roll back`, { model });
    }
    return this.applyCommand(model, champion.version, { type: 'rollback', reason }, actorInput);
  }

  async getModel(model: string): Promise<ModelRecord> {
    return this.requireModel(model);
  }

  /** Every model by name, and apart, those whose stored document cannot be read (with the reason). */
  async listModels(): Promise<ModelListing> {
    return this.deps.registry.listModels();
  }

  /** A page of the models by name (`listModels` a page at a time), those whose stored document cannot be read among them, apart. */
  async modelsPage(page: PageRequest): Promise<ModelPage> {
    return this.deps.registry.listModelsPage(page);
  }

  async getVersion(model: string, version: number): Promise<ModelVersion> {
    await this.requireModel(model);
    return (await this.requireVersion(model, version)).value;
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    await this.requireModel(model);
    return this.deps.registry.listVersions(model);
  }

  /** The model's audit ledger, oldest first. */
  async auditLog(model: string, filter?: { kind?: AuditEventKind; version?: number }): Promise<AuditEvent[]> {
    await this.requireModel(model);
    return this.deps.registry.listAudit(model, filter);
  }

  /** A page of the model's audit ledger, oldest first, the filter applied before paging. */
  async auditPage(model: string, page: PageRequest & AuditFilter): Promise<AuditPage> {
    await this.requireModel(model);
    return this.deps.registry.listAuditPage(model, page);
  }

  /** Which version was champion at `at` (ISO), from the ledger. */
  async championAt(model: string, at: string): Promise<number | null> {
    if (Number.isNaN(Date.parse(at))) throw errors.validation(`'${at}' is not a timestamp`);
    const [events, pointer] = await Promise.all([
      this.deps.registry.listAudit(model, { kind: 'champion_changed' }),
      this.deps.registry.getChampion(model),
    ]);
    const changes = events as ChampionChangedEvent[];
    // The pointer's last change is on the ledger unless its swap was interrupted: include it.
    const last = pointer?.value.lastChange;
    if (last && !changes.some((e) => e.epoch === last.epoch)) changes.push(last);
    return championAtFromEvents(changes, at);
  }

  async getChampion(model: string): Promise<ChampionPointer> {
    await this.requireModel(model);
    return (await this.deps.registry.getChampion(model))?.value ?? emptyChampion(model, this.now());
  }

  private promote(
    model: string,
    number: number,
    command: Extract<LifecycleCommand, { type: 'promote' }>,
    actor: Actor,
    rules: ApprovalRules,
  ): Promise<ModelVersion> {
    return this.changeChampion(model, number, command, actor, rules, {
      alreadyDone: (pointer) =>
        pointer.version === number && pointer.lastChange?.cause === 'promote' && pointer.lastChange.to === number,
      plan: (pointer) => Promise.resolve(planPromotion(pointer, number, actor, this.now(), command.reason)),
    });
  }

  private rollback(
    model: string,
    number: number,
    command: Extract<LifecycleCommand, { type: 'rollback' }>,
    actor: Actor,
    rules: ApprovalRules,
  ): Promise<ModelVersion> {
    return this.changeChampion(model, number, command, actor, rules, {
      alreadyDone: (pointer) =>
        pointer.lastChange?.cause === 'rollback' && pointer.lastChange.from === number && pointer.version !== number,
      plan: async (pointer) => {
        if (pointer.version !== number) {
          throw errors.illegalTransition(`version ${number} of '${model}' is not the champion`, {
            model,
            version: number,
            champion: pointer.version,
          });
        }
        const states = new Map<number, LifecycleState>();
        for (const previous of pointer.previous) {
          const found = await this.deps.registry.getVersion(model, previous);
          if (found) states.set(previous, found.value.state);
        }
        return planRollback(pointer, (v) => states.get(v), actor, this.now(), command.reason);
      },
    });
  }

  /**
   * A promotion or rollback: settles the pointer's last change, answers a replay of the same
   * change with the version as it is, checks the command against the version's state, then swaps
   * in the planned pointer (ETag-guarded) and settles it.
   */
  private async changeChampion(
    model: string,
    number: number,
    command: LifecycleCommand,
    actor: Actor,
    rules: ApprovalRules,
    change: {
      alreadyDone(pointer: ChampionPointer): boolean;
      plan(pointer: ChampionPointer): Promise<ChampionPointer | DomainError>;
    },
  ): Promise<ModelVersion> {
    const stored = await this.settledChampion(model, rules);
    const pointer = stored?.value ?? emptyChampion(model, this.now());
    if (change.alreadyDone(pointer)) return (await this.requireVersion(model, number)).value;
    const version = await this.requireVersion(model, number);
    const check = transition(version.value, command, this.context(actor, rules));
    if (isDomainError(check)) throw check;
    const next = await change.plan(pointer);
    if (isDomainError(next)) throw next;
    let swapped: Versioned<ChampionPointer>;
    try {
      swapped = await this.deps.registry.swapChampion(next, stored?.etag);
    } catch (error) {
      // Lost the race to a concurrent change: if that change was this same one, it is done.
      if (isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT') {
        const winner = await this.settledChampion(model, rules);
        if (winner && change.alreadyDone(winner.value)) return (await this.requireVersion(model, number)).value;
      }
      throw error;
    }
    const settled = await this.settle(swapped, rules);
    if (settled.value.epoch !== next.epoch) {
      const retired = next.lastChange?.to;
      throw errors.illegalTransition(
        `version ${retired} of '${model}' was retired while it was becoming the champion: the champion stays ${settled.value.version === null ? 'none' : `version ${settled.value.version}`}`,
        { model, version: number, retired, champion: settled.value.version },
      );
    }
    return (await this.requireVersion(model, number)).value;
  }

  /** The champion pointer after finishing whatever its last change left undone. */
  private async settledChampion(model: string, rules: ApprovalRules): Promise<Versioned<ChampionPointer> | undefined> {
    const stored = await this.deps.registry.getChampion(model);
    return stored ? this.settle(stored, rules) : undefined;
  }

  /**
   * Brings the ledger and the versions' states in line with the pointer's last change (idempotent)
   * and answers the pointer as it then stands. A change whose new champion was retired before it
   * reached production (an admin's retire racing the promotion or rollback) is undone instead: the
   * pointer goes back to the version it replaced, one epoch later, on the ledger as a rollback.
   */
  private async settle(stored: Versioned<ChampionPointer>, rules: ApprovalRules): Promise<Versioned<ChampionPointer>> {
    const pointer = stored.value;
    const change = pointer.lastChange;
    if (!change) return stored;
    await this.record(change);
    if (await this.changeVoided(pointer)) return this.revert(stored, rules);
    for (const effect of championChangeEffects(change)) {
      try {
        await this.transitionVersion(pointer.modelName, effect.version, effect.command, change.actor, rules, (state) =>
          effectPending(effect, state),
        );
      } catch (error) {
        // A retire that landed after the check above and before the new champion's write: the
        // change is undone as if it had been seen, rather than left pointing at a retired version.
        // The new champion's effect comes first, so the one it replaced is still in production.
        if (effect.version === change.to && isDomainError(error) && error.code === 'ILLEGAL_TRANSITION' && (await this.changeVoided(pointer)))
          return this.revert(stored, rules);
        throw error;
      }
    }
    return stored;
  }

  /** Whether the pointer's last change brought in a version that is retired (it can never serve). */
  private async changeVoided(pointer: ChampionPointer): Promise<boolean> {
    const to = pointer.lastChange?.to ?? null;
    const incoming = to === null ? undefined : await this.deps.registry.getVersion(pointer.modelName, to);
    return championChangeVoided(pointer, incoming?.value.state);
  }

  /** Undoes the pointer's last change (its new champion was retired), then settles the result. */
  private async revert(stored: Versioned<ChampionPointer>, rules: ApprovalRules): Promise<Versioned<ChampionPointer>> {
    const change = stored.value.lastChange!;
    const reason = `version ${change.to} was retired before it became the champion; the champion change of epoch ${change.epoch} is undone`;
    const reverted = planRevert(stored.value, REGISTRY_ACTOR, this.now(), reason);
    return this.settle(await this.deps.registry.swapChampion(reverted, stored.etag), rules);
  }

  /**
   * Applies one command to one version with ETag optimistic concurrency. With `pending`, a
   * version for which it answers false is left alone (finishing an interrupted champion change).
   */
  private async transitionVersion(
    model: string,
    number: number,
    command: AnyLifecycleCommand,
    actor: Actor,
    rules: ApprovalRules,
    pending?: (state: LifecycleState) => boolean,
  ): Promise<ModelVersion> {
    for (let attempt = 1; ; attempt++) {
      const { value: current, etag } = await this.requireVersion(model, number);
      await this.appendLastEvent(current);
      if (pending && !pending(current.state)) return current;
      const outcome = transition(current, command, this.context(actor, rules));
      if (isDomainError(outcome)) {
        if (outcome.code === 'ILLEGAL_TRANSITION' && isReplayOfLastTransition(current, command, actor)) return current;
        throw outcome;
      }
      const next = applyTransition(current, command, outcome);
      try {
        const written = await this.deps.registry.replaceVersion(next, etag);
        await this.record(outcome.event);
        return written.value;
      } catch (error) {
        if (!(isDomainError(error) && error.code === 'CONCURRENCY_CONFLICT') || attempt >= MAX_WRITE_ATTEMPTS) throw error;
        await backoff(attempt);
      }
    }
  }

  /**
   * A write whose ledger append was interrupted is completed by the next command (no-op
   * otherwise); before its first transition, that is the registration's entry (a registration that
   * stopped after storing the version and was not retried).
   */
  private async appendLastEvent(version: ModelVersion): Promise<void> {
    const last = version.history[version.history.length - 1];
    if (last) await this.record(last);
    else await this.recordRegistration(version);
  }

  /** Publishes a ledger entry's event, then appends the entry; an entry already on the ledger is done. */
  private async record(entry: AuditEvent): Promise<void> {
    if (await this.deps.registry.hasAudit(entry.modelName, entry.id)) return;
    await this.deps.events?.publish(modelEventOf(entry));
    await this.deps.registry.appendAudit(entry);
  }

  private async requireModel(model: string): Promise<ModelRecord> {
    const record = await this.deps.registry.getModel(model);
    if (!record) throw errors.modelNotFound(model);
    return record;
  }

  private async requireVersion(model: string, version: number): Promise<Versioned<ModelVersion>> {
    const found = await this.deps.registry.getVersion(model, version);
    if (!found) throw errors.versionNotFound(model, version);
    return found;
  }

  private context(actor: Actor, rules: ApprovalRules): TransitionContext {
    return { actor, approverRole: rules.approverRole, autoApprove: rules.autoApprove, now: this.now() };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/**
 * A ledger reason as long as a command's may be: one naming thousands of new segment values would
 * make an event larger than a Service Bus message (256 KB), which could then never be published
 * nor, published first, appended. The evidence bundle has them all.
 */
const MAX_LEDGER_REASON = 2000;
function boundedReason(reason: string): string {
  return reason.length <= MAX_LEDGER_REASON ? reason : `${reason.slice(0, MAX_LEDGER_REASON - 40)}… (see the evidence for all)`;
}

/** PAYLOAD_TOO_LARGE for a version too large to register, naming what makes it so. */
function checkRegisteredSize(version: Record<string, unknown>): void {
  const bytes = documentBytes(version);
  if (bytes <= MAX_REGISTERED_VERSION_BYTES) return;
  const largest = Object.entries(version)
    .map(([field, value]) => ({ field, bytes: documentBytes(value) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 2);
  throw errors.payloadTooLarge(
    `the version is ${bytes} bytes of JSON, more than the ${MAX_REGISTERED_VERSION_BYTES} a registered version may have (its registry document keeps room for its lifecycle); largest: ${largest.map((l) => `${l.field} (${l.bytes} bytes)`).join(', ')}`,
    { bytes, limit: MAX_REGISTERED_VERSION_BYTES, largest },
  );
}

/** The later of two ISO times as the app writes them (UTC, milliseconds). */
const laterOf = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);

/** Jittered, growing pause between optimistic retries so contenders spread out. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(5 * attempt, 50);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
