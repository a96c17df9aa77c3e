import { randomUUID } from 'node:crypto';

import { type Message, message as amqpMessage } from 'rhea';

import { type BrokerConfig, maxMessageBytes, type QueueConfig, type SubscriptionConfig } from './broker-config';
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

/** The error Service Bus answers for a transfer larger than the entity allows (`MessageSizeExceeded` in the SDK). */
export const messageTooLarge = (deliveryId: number, size: number, limit: number): BrokerError =>
  new BrokerError(
    'amqp:link:message-size-exceeded',
    `The received message (delivery-id:${deliveryId}, size:${size} bytes) exceeds the limit (${limit} bytes) currently allowed on the link.`,
    413,
  );

export type Settlement = 'complete' | 'abandon' | 'defer' | 'deadletter';

export interface SettleOptions {
  deadLetterReason?: string;
  deadLetterDescription?: string;
  /** Application properties to set on the message (abandon, defer, dead-letter). */
  propertiesToModify?: Record<string, unknown>;
}

interface ScheduledMessage {
  rowId: number;
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
  /** The last sequence number issued per queue or topic (lower-cased name); `*` is a floor for all. */
  private readonly counters: Map<string, number>;
  private lastExpirySweep = 0;
  /** What to put back in memory if the store transaction under way rolls back (see `atomically`). */
  private undo: (() => void)[] | undefined;

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
        queue: entity,
        duplicateWindowMs: q.Properties.RequiresDuplicateDetection
          ? q.Properties.DuplicateDetectionHistoryTimeWindow
          : undefined,
        defaultTtlMs: undefined,
        maxMessageSize: maxMessageBytes(ns, q.Properties.MaxMessageSizeInKilobytes),
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
        queue: undefined,
        duplicateWindowMs: t.Properties.RequiresDuplicateDetection
          ? t.Properties.DuplicateDetectionHistoryTimeWindow
          : undefined,
        defaultTtlMs: t.Properties.DefaultMessageTimeToLive,
        maxMessageSize: maxMessageBytes(ns, t.Properties.MaxMessageSizeInKilobytes),
        route: (message) =>
          routes
            .filter((r) => r.filters.length === 0 || r.filters.some((f) => matchesCorrelation(f, message)))
            .map((r) => r.entity),
      });
    }
    this.counters = store.sequenceCounters();
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
      const counter = targetOfPath(row.entity);
      this.counters.set(counter, Math.max(this.counters.get(counter) ?? 0, row.sequenceNumber));
      if (row.state === 'scheduled') {
        const target = this.targets.get(row.entity.toLowerCase());
        if (target) {
          this.scheduled.set(row.rowId, { rowId: row.rowId, seq: row.sequenceNumber, target, message, visibleAt: row.visibleAt });
        }
        continue;
      }
      const entity = this.receiving.get(row.entity.toLowerCase());
      if (!entity) continue; // an entity removed from the config: its rows stay in the file untouched
      entity.add({
        rowId: row.rowId,
        seq: row.sequenceNumber,
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

  /**
   * The next sequence number of a queue or topic: gap-free and increasing per entity, as Service
   * Bus issues them ("relative to the queue or topic"); a topic's subscriptions share its numbers.
   * Call inside a store transaction.
   */
  private nextSequenceNumber(target: SendTarget): number {
    const key = target.name.toLowerCase();
    const previous = this.counters.get(key);
    const next = Math.max(previous ?? 0, this.counters.get('*') ?? 0) + 1;
    this.counters.set(key, next);
    this.onRollback(() => (previous === undefined ? this.counters.delete(key) : this.counters.set(key, previous)));
    this.store.saveSequenceCounter(key, next);
    return next;
  }

  /** The largest message or batch a queue or topic accepts, in bytes (undefined: no such entity). */
  maxMessageSize(targetName: string): number | undefined {
    return this.findTarget(targetName)?.maxMessageSize;
  }

  /** The largest limit of all entities (for `$management` links, which carry any entity's messages). */
  largestMaxMessageSize(): number {
    return Math.max(256 * 1024, ...[...this.targets.values()].map((t) => t.maxMessageSize));
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
    // A send whose transaction fails was not accepted: its id must not make the retry a duplicate.
    this.onRollback(() => (until === undefined ? ids.delete(messageId) : ids.set(messageId, until)));
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
    this.atomically(() => {
      for (const raw of messages) {
        const message = this.normalise(raw);
        if (this.isDuplicate(target, String(message.message_id), now)) continue;
        const seq = this.nextSequenceNumber(target);
        const at = scheduledTimeOf(message);
        if (at !== undefined && at > now) {
          this.storeScheduled(target, message, at, seq);
          seqs.push(seq);
          continue;
        }
        added.push(...this.route(target, message, now, seq));
      }
    });
    this.publish(added);
    return seqs;
  }

  /**
   * Schedules messages (the `$management` schedule operation); returns their sequence numbers,
   * which they keep when they become active (and which cancel them until then). Duplicate
   * detection applies as to sends: a message id seen inside the window still gets a sequence
   * number but the message is dropped, as Service Bus does (Azure/azure-service-bus#265).
   */
  schedule(targetName: string, messages: Message[]): number[] {
    const target = this.requireTarget(targetName);
    const now = this.now();
    return this.atomically(() =>
      messages.map((raw) => {
        const message = this.normalise(raw);
        const duplicate = this.isDuplicate(target, String(message.message_id), now);
        const seq = this.nextSequenceNumber(target);
        if (!duplicate) this.storeScheduled(target, message, scheduledTimeOf(message) ?? now, seq);
        return seq;
      }),
    );
  }

  /**
   * Runs store writes as one transaction; if it fails (disk full, the file locked by another
   * process) the in-memory changes made meanwhile (sequence counters, duplicate detection ids,
   * scheduled messages) are undone, so memory never holds what the store does not: a rejected send
   * that the client retries is not taken for a duplicate and dropped.
   */
  private atomically<T>(fn: () => T): T {
    const undo: (() => void)[] = [];
    this.undo = undo;
    try {
      return this.store.transaction(fn);
    } catch (e) {
      for (const step of undo.reverse()) step();
      throw e;
    } finally {
      this.undo = undefined;
    }
  }

  private onRollback(step: () => void): void {
    this.undo?.push(step);
  }

  private unschedule(s: ScheduledMessage): void {
    this.scheduled.delete(s.rowId);
    this.onRollback(() => this.scheduled.set(s.rowId, s));
  }

  private storeScheduled(target: SendTarget, message: Message, at: number, seq: number): void {
    const rowId = this.store.insert({
      sequenceNumber: seq,
      entity: target.name,
      state: 'scheduled',
      enqueuedAt: at,
      expiresAt: NEVER,
      visibleAt: at,
      deliveryCount: 0,
      body: amqpMessage.encode(message),
    });
    this.scheduled.set(rowId, { rowId, seq, target, message, visibleAt: at });
    this.onRollback(() => this.scheduled.delete(rowId));
  }

  /**
   * Cancels scheduled messages by the numbers scheduling returned. A number that names no message
   * still scheduled (already enqueued, already cancelled, or never issued) fails the whole call
   * with `MessageNotFound` and the service's text, cancelling nothing.
   */
  cancelScheduled(targetName: string, seqs: number[]): void {
    const target = this.requireTarget(targetName);
    const found = new Map<number, ScheduledMessage>();
    for (const s of this.scheduled.values()) if (s.target === target) found.set(s.seq, s);
    const missing = [...new Set(seqs)].filter((seq) => !found.has(seq));
    if (missing.length) {
      throw new BrokerError(
        'com.microsoft:message-not-found',
        `Messages not found. Missing sequence numbers: ${missing.join(', ')}`,
        404,
      );
    }
    this.atomically(() => {
      for (const seq of new Set(seqs)) {
        const s = found.get(seq)!;
        this.unschedule(s);
        this.store.delete(s.rowId);
      }
    });
  }

  /**
   * Stores one copy per receiving entity (inside the caller's transaction), all with the target's
   * sequence number. The time to live the receiver sees is the smallest of the message's, the
   * topic's and the entity's default, as Service Bus caps it.
   */
  private route(target: SendTarget, message: Message, enqueuedAt: number, seq: number): Envelope[] {
    const encoded = new Map<number | undefined, { message: Message; body: Buffer }>();
    return target.route(message).map((entity) => {
      const ttl = minDefined(
        typeof message.ttl === 'number' && message.ttl > 0 ? message.ttl : undefined,
        target.defaultTtlMs,
        entity.properties.defaultTtlMs,
      );
      let copy = encoded.get(ttl);
      if (!copy) {
        // The JS SDK reads the TTL as absolute_expiry_time - creation_time when the sender set them.
        const created = message.creation_time instanceof Date ? message.creation_time.getTime() : undefined;
        const capped: Message =
          ttl === undefined || ttl === message.ttl
            ? message
            : { ...message, ttl, ...(created === undefined ? {} : { absolute_expiry_time: new Date(created + ttl) }) };
        copy = { message: capped, body: amqpMessage.encode(capped) };
        encoded.set(ttl, copy);
      }
      const expiresAt = ttl === undefined ? NEVER : Math.min(NEVER, enqueuedAt + ttl);
      const rowId = this.store.insert({
        sequenceNumber: seq,
        entity: entity.path,
        state: 'active',
        enqueuedAt,
        expiresAt,
        visibleAt: enqueuedAt,
        deliveryCount: 0,
        body: copy.body,
      });
      return { rowId, seq, entity, state: 'active' as const, message: copy.message, enqueuedAt, expiresAt, deliveryCount: 0 };
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
      // A copy restored after a crash may have used up its deliveries while its lock was lost.
      if (!entity.isDeadLetterQueue && envelope.deliveryCount >= entity.properties.maxDeliveryCount) {
        this.deadLetterExhausted(envelope);
        continue;
      }
      let lock: Lock | undefined;
      if (consumer.peekLock) {
        lock = this.lock(envelope, now);
      } else {
        entity.remove(envelope.seq);
        this.store.delete(envelope.rowId);
      }
      consumer.deliver(envelope, lock);
    }
  }

  /**
   * Locks a copy for a peek-lock receiver. The store gets the delivery count it will have if the
   * lock is lost (a crash counts as an expired lock), so a restart needs no lock records.
   */
  private lock(envelope: Envelope, now: number): Lock {
    const lock = { token: randomUUID(), until: now + envelope.entity.properties.lockDurationMs };
    envelope.lock = lock;
    this.locks.set(lock.token, envelope);
    this.store.setDeliveryCount(envelope.rowId, envelope.deliveryCount + 1);
    return lock;
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
        this.store.delete(envelope.rowId);
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
        // A deferral counts as a delivery attempt (deferredMessage.spec.ts in @azure/service-bus:
        // deferred once, received by sequence number with deliveryCount 1).
        this.modifyProperties(envelope, options.propertiesToModify);
        envelope.deliveryCount += 1;
        envelope.state = 'deferred';
        this.persist(envelope);
        return;
      case 'abandon':
        this.modifyProperties(envelope, options.propertiesToModify);
        envelope.deliveryCount += 1;
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
      if (!peekLock) {
        entity.remove(envelope.seq);
        this.store.delete(envelope.rowId);
        return { envelope };
      }
      return { envelope, lock: this.lock(envelope, now) };
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
      envelope.rowId,
      envelope.state,
      envelope.deliveryCount,
      envelope.enqueuedAt,
      amqpMessage.encode(envelope.message),
    );
  }

  /**
   * After an abandon or an expired lock (the delivery count already raised): dead-letter at the
   * limit, else back in line. The store already holds the raised count (see `lock`).
   */
  private afterFailedDelivery(envelope: Envelope, changed: boolean): void {
    const entity = envelope.entity;
    if (envelope.deliveryCount >= entity.properties.maxDeliveryCount) {
      this.deadLetterExhausted(envelope);
      return;
    }
    if (changed) this.persist(envelope);
    if (envelope.state === 'active') {
      entity.makeReady(envelope.seq);
      this.pump(entity);
    }
  }

  private deadLetterExhausted(envelope: Envelope): void {
    const max = envelope.entity.properties.maxDeliveryCount;
    this.deadLetter(envelope, 'MaxDeliveryCountExceeded', `Message could not be consumed after ${max} delivery attempts.`);
  }

  private releaseLock(envelope: Envelope): void {
    if (!envelope.lock) return;
    this.locks.delete(envelope.lock.token);
    envelope.lock = undefined;
    if (envelope.entity.messages.get(envelope.seq) !== envelope) return;
    envelope.deliveryCount += 1;
    this.afterFailedDelivery(envelope, false);
  }

  /**
   * Moves a copy to its entity's dead-letter queue with the reason in its application properties.
   * It keeps its sequence number, enqueued time and delivery count (a dead-lettered deferred
   * message is received from the dead-letter queue with deliveryCount 1, as the SDK's
   * deferredMessage.spec.ts expects); `deadLetterSource` is only set by auto-forwarding, which the
   * broker does not do.
   */
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
    } as Message;
    const moved = this.store.transaction(() => {
      this.store.delete(envelope.rowId);
      const rowId = this.store.insert({
        sequenceNumber: envelope.seq,
        entity: dlq.path,
        state: 'active',
        enqueuedAt: envelope.enqueuedAt,
        expiresAt: NEVER,
        visibleAt: envelope.enqueuedAt,
        deliveryCount: envelope.deliveryCount,
        body: amqpMessage.encode(message),
      });
      return {
        rowId,
        seq: envelope.seq,
        entity: dlq,
        state: 'active' as const,
        message,
        enqueuedAt: envelope.enqueuedAt,
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
      this.store.delete(envelope.rowId);
    }
  }

  /** Periodic work: expired locks, due scheduled messages, expired messages, old message ids. */
  sweep(): void {
    const now = this.now();
    for (const envelope of [...this.locks.values()]) {
      if (envelope.lock && envelope.lock.until <= now) this.releaseLock(envelope);
    }
    const due = [...this.scheduled.values()].filter((s) => s.visibleAt <= now).sort((a, b) => a.rowId - b.rowId);
    if (due.length) {
      // A scheduled message becomes active with the sequence number scheduling returned, its
      // enqueued time the scheduled time.
      const added = this.atomically(() =>
        due.flatMap((s) => {
          this.unschedule(s);
          this.store.delete(s.rowId);
          return this.route(s.target, s.message, s.visibleAt, s.seq);
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

  /**
   * Messages from `fromSeq` on, for the peek operation: active (locked or not) and deferred ones,
   * and for a queue also its scheduled ones (state `scheduled`), in sequence order.
   */
  peek(entity: ReceivingEntity, fromSeq: number, count: number): Envelope[] {
    const held = entity.peek(fromSeq, count);
    const target = this.targets.get(entity.path.toLowerCase());
    if (target?.queue !== entity) return held;
    const scheduled: Envelope[] = [...this.scheduled.values()]
      .filter((s) => s.target === target && s.seq >= fromSeq)
      .map((s) => ({
        rowId: s.rowId,
        seq: s.seq,
        entity,
        state: 'scheduled' as const,
        message: s.message,
        enqueuedAt: s.visibleAt,
        expiresAt: NEVER,
        deliveryCount: 0,
      }));
    return [...held, ...scheduled].sort((a, b) => a.seq - b.seq).slice(0, count);
  }
}

/** The queue or topic (lower-cased) whose sequence numbers a stored row carries. */
function targetOfPath(entityPath: string): string {
  return entityPath.split('/')[0]!.toLowerCase();
}
