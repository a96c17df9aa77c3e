import { randomUUID } from 'node:crypto';

import { type Message, message as amqpMessage } from 'rhea';

import type { BrokerConfig, QueueConfig, SubscriptionConfig } from './broker-config';
import {
  decodeMessage,
  type Envelope,
  type Lock,
  matchesCorrelation,
  NEVER,
  ReceivingEntity,
  type ReceivingProperties,
  type SendTarget,
} from './entities';
import type { MessageStore } from './store';

/** A failure the broker reports to the client with an AMQP condition (and a management status). */
export class BrokerError extends Error {
  constructor(
    readonly condition: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

export const lockLost = (token: string): BrokerError =>
  new BrokerError(
    'com.microsoft:message-lock-lost',
    `The lock supplied (${token}) is invalid: it expired, or the message was already settled.`,
    410,
  );

export const DEAD_LETTER_SUFFIX = '/$DeadLetterQueue';
const SCHEDULED_TIME = 'x-opt-scheduled-enqueue-time';
const DEAD_LETTER_SOURCE = 'x-opt-deadletter-source';

export type Settlement = 'complete' | 'abandon' | 'defer' | 'deadletter';

export interface SettleOptions {
  deadLetterReason?: string;
  deadLetterDescription?: string;
  /** Application properties to set on the message (abandon, defer, dead-letter). */
  propertiesToModify?: Record<string, unknown>;
}

interface ScheduledMessage {
  seq: number;
  target: SendTarget;
  message: Message;
  visibleAt: number;
}

function receivingProperties(
  p: QueueConfig['Properties'] | SubscriptionConfig['Properties'],
): ReceivingProperties {
  return {
    lockDurationMs: p.LockDuration,
    maxDeliveryCount: p.MaxDeliveryCount,
    defaultTtlMs: p.DefaultMessageTimeToLive,
    deadLetterOnExpiry: p.DeadLetteringOnMessageExpiration,
  };
}

const DEAD_LETTER_PROPERTIES: ReceivingProperties = {
  lockDurationMs: 60_000,
  maxDeliveryCount: Number.POSITIVE_INFINITY,
  defaultTtlMs: undefined,
  deadLetterOnExpiry: false,
};

function minDefined(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

function scheduledTimeOf(message: Message): number | undefined {
  const value: unknown = message.message_annotations?.[SCHEDULED_TIME];
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  return undefined;
}

/**
 * The broker's state machine, independent of AMQP: entities, message copies, locks, deferral,
 * scheduling, expiry, dead-lettering, duplicate detection, and the store behind them. Every
 * change is written to the store before it becomes visible.
 */
export class BrokerEngine {
  private readonly receiving = new Map<string, ReceivingEntity>();
  private readonly targets = new Map<string, SendTarget>();
  private readonly locks = new Map<string, Envelope>();
  private readonly scheduled = new Map<number, ScheduledMessage>();
  private readonly recentIds = new Map<string, Map<string, number>>();
  private lastExpirySweep = 0;

  constructor(
    config: BrokerConfig,
    private readonly store: MessageStore,
    private readonly now: () => number = Date.now,
  ) {
    const ns = config.UserConfig.Namespaces[0]!;
    for (const q of ns.Queues) {
      const entity = this.addReceiving(q.Name, receivingProperties(q.Properties));
      this.targets.set(q.Name.toLowerCase(), {
        name: q.Name,
        duplicateWindowMs: q.Properties.RequiresDuplicateDetection
          ? q.Properties.DuplicateDetectionHistoryTimeWindow
          : undefined,
        defaultTtlMs: undefined,
        route: () => [entity],
      });
    }
    for (const t of ns.Topics) {
      const routes = t.Subscriptions.map((s) => ({
        entity: this.addReceiving(`${t.Name}/Subscriptions/${s.Name}`, receivingProperties(s.Properties)),
        filters: s.Rules.map((r) => r.Properties.CorrelationFilter),
      }));
      this.targets.set(t.Name.toLowerCase(), {
        name: t.Name,
        duplicateWindowMs: t.Properties.RequiresDuplicateDetection
          ? t.Properties.DuplicateDetectionHistoryTimeWindow
          : undefined,
        defaultTtlMs: t.Properties.DefaultMessageTimeToLive,
        route: (message) =>
          routes
            .filter((r) => r.filters.length === 0 || r.filters.some((f) => matchesCorrelation(f, message)))
            .map((r) => r.entity),
      });
    }
    this.restore();
  }

  private addReceiving(path: string, properties: ReceivingProperties): ReceivingEntity {
    const entity = new ReceivingEntity(path, properties);
    const dlq = new ReceivingEntity(path + DEAD_LETTER_SUFFIX, DEAD_LETTER_PROPERTIES, true);
    entity.deadLetterQueue = dlq;
    this.receiving.set(path.toLowerCase(), entity);
    this.receiving.set(dlq.path.toLowerCase(), dlq);
    return entity;
  }

  /** Loads what the store kept; locks are not kept, so every message is receivable again. */
  private restore(): void {
    const now = this.now();
    for (const row of this.store.all()) {
      const message = decodeMessage(row.body);
      if (row.state === 'scheduled') {
        const target = this.targets.get(row.entity.toLowerCase());
        if (target) this.scheduled.set(row.seq, { seq: row.seq, target, message, visibleAt: row.visibleAt });
        continue;
      }
      const entity = this.receiving.get(row.entity.toLowerCase());
      if (!entity) continue; // an entity removed from the config: its rows stay in the file untouched
      entity.add({
        seq: row.seq,
        entity,
        state: row.state,
        message,
        enqueuedAt: row.enqueuedAt,
        expiresAt: row.expiresAt,
        deliveryCount: row.deliveryCount,
      });
    }
    for (const { target, messageId, expiresAt } of this.store.recentMessageIds(now)) {
      this.idsOf(target).set(messageId, expiresAt);
    }
  }

  findReceiving(path: string): ReceivingEntity | undefined {
    return this.receiving.get(path.toLowerCase());
  }

  /** The queue or topic a sender names, or the error Service Bus answers for an unknown entity. */
  private requireTarget(name: string): SendTarget {
    const target = this.findTarget(name);
    if (!target)
      throw new BrokerError('amqp:not-found', `The messaging entity '${name}' could not be found.`, 404);
    return target;
  }

  findTarget(name: string): SendTarget | undefined {
    return this.targets.get(name.toLowerCase());
  }

  private idsOf(target: string): Map<string, number> {
    let ids = this.recentIds.get(target.toLowerCase());
    if (!ids) {
      ids = new Map();
      this.recentIds.set(target.toLowerCase(), ids);
    }
    return ids;
  }

  /** True when the id was seen inside the window (the message is then dropped, as Service Bus does). */
  private isDuplicate(target: SendTarget, messageId: string, now: number): boolean {
    if (target.duplicateWindowMs === undefined) return false;
    const ids = this.idsOf(target.name);
    const until = ids.get(messageId);
    if (until !== undefined && until > now) return true;
    ids.set(messageId, now + target.duplicateWindowMs);
    this.store.rememberMessageId(target.name, messageId, now + target.duplicateWindowMs);
    return false;
  }

  private normalise(message: Message): Message {
    if (message.message_id === undefined || message.message_id === null || message.message_id === '') {
      message.message_id = randomUUID().replace(/-/g, '');
    }
    return message;
  }

  /**
   * Accepts messages sent to a queue or topic (one transfer or one batch). All of them are stored
   * in one transaction; then receivers are served. Duplicates inside the window are dropped.
   */
  send(targetName: string, messages: Message[]): number[] {
    const target = this.requireTarget(targetName);
    const now = this.now();
    const added: Envelope[] = [];
    const seqs: number[] = [];
    this.store.transaction(() => {
      for (const raw of messages) {
        const message = this.normalise(raw);
        if (this.isDuplicate(target, String(message.message_id), now)) continue;
        const at = scheduledTimeOf(message);
        if (at !== undefined && at > now) {
          seqs.push(this.storeScheduled(target, message, at));
          continue;
        }
        added.push(...this.route(target, message, now));
      }
    });
    this.publish(added);
    return seqs;
  }

  /** Schedules messages (the `$management` schedule operation); returns their sequence numbers. */
  schedule(targetName: string, messages: Message[]): number[] {
    const target = this.requireTarget(targetName);
    const now = this.now();
    return this.store.transaction(() =>
      messages.map((raw) => {
        const message = this.normalise(raw);
        return this.storeScheduled(target, message, scheduledTimeOf(message) ?? now);
      }),
    );
  }

  private storeScheduled(target: SendTarget, message: Message, at: number): number {
    const seq = this.store.insert({
      entity: target.name,
      state: 'scheduled',
      enqueuedAt: at,
      expiresAt: NEVER,
      visibleAt: at,
      deliveryCount: 0,
      body: amqpMessage.encode(message),
    });
    this.scheduled.set(seq, { seq, target, message, visibleAt: at });
    return seq;
  }

  cancelScheduled(targetName: string, seqs: number[]): void {
    this.store.transaction(() => {
      for (const seq of seqs) {
        const s = this.scheduled.get(seq);
        if (!s || s.target.name.toLowerCase() !== targetName.toLowerCase()) continue;
        this.scheduled.delete(seq);
        this.store.delete(seq);
      }
    });
  }

  /** Stores one copy per receiving entity (inside the caller's transaction). */
  private route(target: SendTarget, message: Message, now: number): Envelope[] {
    const body = amqpMessage.encode(message);
    return target.route(message).map((entity) => {
      const ttl = minDefined(
        typeof message.ttl === 'number' && message.ttl > 0 ? message.ttl : undefined,
        target.defaultTtlMs,
        entity.properties.defaultTtlMs,
      );
      const expiresAt = ttl === undefined ? NEVER : Math.min(NEVER, now + ttl);
      const seq = this.store.insert({
        entity: entity.path,
        state: 'active',
        enqueuedAt: now,
        expiresAt,
        visibleAt: now,
        deliveryCount: 0,
        body,
      });
      return { seq, entity, state: 'active' as const, message, enqueuedAt: now, expiresAt, deliveryCount: 0 };
    });
  }

  private publish(envelopes: Envelope[]): void {
    const touched = new Set<ReceivingEntity>();
    for (const envelope of envelopes) {
      envelope.entity.add(envelope);
      touched.add(envelope.entity);
    }
    for (const entity of touched) this.pump(entity);
  }

  /** Hands ready messages to consumers with credit; peek-lock deliveries take a lock. */
  pump(entity: ReceivingEntity): void {
    const now = this.now();
    while (entity.hasReady()) {
      const consumer = entity.nextConsumerWithCredit();
      if (!consumer) return;
      const envelope = entity.takeReady();
      if (!envelope) return;
      if (!entity.isDeadLetterQueue && envelope.expiresAt <= now) {
        this.expire(envelope);
        continue;
      }
      envelope.deliveryCount += 1;
      let lock: Lock | undefined;
      if (consumer.peekLock) {
        lock = { token: randomUUID(), until: now + entity.properties.lockDurationMs };
        envelope.lock = lock;
        this.locks.set(lock.token, envelope);
        this.store.setDeliveryCount(envelope.seq, envelope.deliveryCount);
      } else {
        entity.remove(envelope.seq);
        this.store.delete(envelope.seq);
      }
      consumer.deliver(envelope, lock);
    }
  }

  private lockedEnvelope(token: string): Envelope {
    const envelope = this.locks.get(token);
    if (!envelope || !envelope.lock || envelope.lock.until <= this.now()) {
      if (envelope) this.releaseLock(envelope);
      throw lockLost(token);
    }
    return envelope;
  }

  /** Settles a locked message by its lock token (link disposition or `$management`). */
  settle(token: string, settlement: Settlement, options: SettleOptions = {}): void {
    const envelope = this.lockedEnvelope(token);
    this.locks.delete(token);
    envelope.lock = undefined;
    const entity = envelope.entity;
    switch (settlement) {
      case 'complete':
        entity.remove(envelope.seq);
        this.store.delete(envelope.seq);
        return;
      case 'deadletter':
        this.deadLetter(
          envelope,
          options.deadLetterReason,
          options.deadLetterDescription,
          options.propertiesToModify,
        );
        return;
      case 'defer':
        this.modifyProperties(envelope, options.propertiesToModify);
        envelope.state = 'deferred';
        this.persist(envelope);
        return;
      case 'abandon':
        this.modifyProperties(envelope, options.propertiesToModify);
        this.afterFailedDelivery(envelope, options.propertiesToModify !== undefined);
        return;
    }
  }

  /** Extends a lock by the entity's lock duration; returns the new expiry. */
  renewLock(token: string): number {
    const envelope = this.lockedEnvelope(token);
    envelope.lock!.until = this.now() + envelope.entity.properties.lockDurationMs;
    return envelope.lock!.until;
  }

  /** Deferred messages by sequence number; peek-lock takes a lock, receive-and-delete removes them. */
  receiveDeferred(
    entity: ReceivingEntity,
    seqs: number[],
    peekLock: boolean,
  ): { envelope: Envelope; lock?: Lock }[] {
    const found = seqs.map((seq) => {
      const envelope = entity.messages.get(seq);
      if (!envelope || envelope.state !== 'deferred' || envelope.lock) {
        throw new BrokerError(
          'com.microsoft:message-not-found',
          `Failed to retrieve the deferred message with sequence number ${seq} from '${entity.path}'.`,
          404,
        );
      }
      return envelope;
    });
    const now = this.now();
    return found.map((envelope) => {
      envelope.deliveryCount += 1;
      if (!peekLock) {
        entity.remove(envelope.seq);
        this.store.delete(envelope.seq);
        return { envelope };
      }
      const lock = { token: randomUUID(), until: now + entity.properties.lockDurationMs };
      envelope.lock = lock;
      this.locks.set(lock.token, envelope);
      this.store.setDeliveryCount(envelope.seq, envelope.deliveryCount);
      return { envelope, lock };
    });
  }

  private modifyProperties(envelope: Envelope, properties: Record<string, unknown> | undefined): void {
    if (!properties || Object.keys(properties).length === 0) return;
    envelope.message = {
      ...envelope.message,
      application_properties: {
        ...((envelope.message.application_properties as Record<string, unknown> | undefined) ?? {}),
        ...withoutUndefined(properties),
      },
    };
  }

  private persist(envelope: Envelope): void {
    this.store.update(
      envelope.seq,
      envelope.state,
      envelope.deliveryCount,
      envelope.enqueuedAt,
      amqpMessage.encode(envelope.message),
    );
  }

  /** After an abandon or an expired lock: dead-letter at the limit, else back in line. */
  private afterFailedDelivery(envelope: Envelope, changed: boolean): void {
    const entity = envelope.entity;
    if (envelope.deliveryCount >= entity.properties.maxDeliveryCount) {
      this.deadLetter(
        envelope,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${entity.properties.maxDeliveryCount} delivery attempts.`,
      );
      return;
    }
    if (changed) this.persist(envelope);
    if (envelope.state === 'active') {
      entity.makeReady(envelope.seq);
      this.pump(entity);
    }
  }

  private releaseLock(envelope: Envelope): void {
    if (!envelope.lock) return;
    this.locks.delete(envelope.lock.token);
    envelope.lock = undefined;
    if (envelope.entity.messages.get(envelope.seq) === envelope) this.afterFailedDelivery(envelope, false);
  }

  /** Moves a copy to its entity's dead-letter queue with the reason in its application properties. */
  private deadLetter(
    envelope: Envelope,
    reason: string | undefined,
    description: string | undefined,
    properties?: Record<string, unknown>,
  ): void {
    const entity = envelope.entity;
    const dlq = entity.deadLetterQueue;
    if (!dlq) {
      // Dead-lettering from a dead-letter queue keeps the message where it is.
      this.modifyProperties(envelope, properties);
      this.persist(envelope);
      entity.makeReady(envelope.seq);
      this.pump(entity);
      return;
    }
    const message = {
      ...envelope.message,
      application_properties: withoutUndefined({
        ...((envelope.message.application_properties as Record<string, unknown> | undefined) ?? {}),
        ...(properties ?? {}),
        DeadLetterReason: reason,
        DeadLetterErrorDescription: description,
      }),
      message_annotations: {
        ...(envelope.message.message_annotations ?? {}),
        [DEAD_LETTER_SOURCE]: entity.path,
      },
    } as Message;
    const now = this.now();
    const moved = this.store.transaction(() => {
      this.store.delete(envelope.seq);
      const seq = this.store.insert({
        entity: dlq.path,
        state: 'active',
        enqueuedAt: now,
        expiresAt: NEVER,
        visibleAt: now,
        deliveryCount: envelope.deliveryCount,
        body: amqpMessage.encode(message),
      });
      return {
        seq,
        entity: dlq,
        state: 'active' as const,
        message,
        enqueuedAt: now,
        expiresAt: NEVER,
        deliveryCount: envelope.deliveryCount,
      };
    });
    entity.remove(envelope.seq);
    this.publish([moved]);
  }

  private expire(envelope: Envelope): void {
    if (envelope.entity.properties.deadLetterOnExpiry) {
      this.deadLetter(envelope, 'TTLExpiredException', 'The message expired and was dead lettered.');
    } else {
      envelope.entity.remove(envelope.seq);
      this.store.delete(envelope.seq);
    }
  }

  /** Periodic work: expired locks, due scheduled messages, expired messages, old message ids. */
  sweep(): void {
    const now = this.now();
    for (const envelope of [...this.locks.values()]) {
      if (envelope.lock && envelope.lock.until <= now) this.releaseLock(envelope);
    }
    const due = [...this.scheduled.values()].filter((s) => s.visibleAt <= now).sort((a, b) => a.seq - b.seq);
    if (due.length) {
      const added = this.store.transaction(() =>
        due.flatMap((s) => {
          this.scheduled.delete(s.seq);
          this.store.delete(s.seq);
          return this.route(s.target, s.message, now);
        }),
      );
      this.publish(added);
    }
    if (now - this.lastExpirySweep >= 1000) {
      this.lastExpirySweep = now;
      for (const entity of new Set(this.receiving.values())) {
        if (entity.isDeadLetterQueue) continue;
        for (const envelope of [...entity.messages.values()]) {
          if (envelope.state === 'active' && !envelope.lock && envelope.expiresAt <= now)
            this.expire(envelope);
        }
      }
      for (const ids of this.recentIds.values()) {
        for (const [id, until] of ids) if (until <= now) ids.delete(id);
      }
      this.store.purgeMessageIds(now);
    }
  }

  /** Copies from `fromSeq` on (active, locked and deferred), for the peek operation. */
  peek(entity: ReceivingEntity, fromSeq: number, count: number): Envelope[] {
    return entity.peek(fromSeq, count);
  }
}
