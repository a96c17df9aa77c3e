import { type Message, message as amqpMessage } from 'rhea';

import type { CorrelationFilter } from './broker-config';
import type { MessageState } from './store';

/** Decodes an encoded AMQP message (rhea types its result loosely). */
export function decodeMessage(bytes: Buffer): Message {
  return amqpMessage.decode(bytes) as unknown as Message;
}

/** Never expires: the largest time Service Bus reports (9999-12-31). */
export const NEVER = 253402300799999;

/** Behaviour of a receiving entity: a queue, a subscription, or the dead-letter queue of either. */
export interface ReceivingProperties {
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultTtlMs: number | undefined;
  deadLetterOnExpiry: boolean;
}

/** A lock held by a peek-lock receiver; `token` is the lock token string the SDK shows. */
export interface Lock {
  token: string;
  until: number;
}

/** One message copy held by one receiving entity. */
export interface Envelope {
  /** The store's key for this copy. */
  rowId: number;
  /** The Service Bus sequence number: issued per queue or topic, kept when dead-lettered. */
  seq: number;
  entity: ReceivingEntity;
  state: MessageState;
  /** The message as the sender sent it, plus what the broker changed (id, dead-letter reason). */
  message: Message;
  enqueuedAt: number;
  expiresAt: number;
  /**
   * The AMQP header's delivery-count (what the JS SDK shows as `deliveryCount`): raised when a
   * lock is abandoned, expires or is deferred, not by a delivery itself nor by dead-lettering.
   */
  deliveryCount: number;
  lock?: Lock;
}

/**
 * Something a receiver link delivers to. The AMQP layer implements it over a rhea sender;
 * `deliver` returns false when the link can take no more now.
 */
export interface Consumer {
  readonly peekLock: boolean;
  canTake(): boolean;
  deliver(envelope: Envelope, lock: Lock | undefined): void;
}

/** A queue, a subscription, or a dead-letter queue: holds message copies and hands them out. */
export class ReceivingEntity {
  readonly messages = new Map<number, Envelope>();
  /** Sequence numbers of active, unlocked messages, ascending. */
  private readonly ready: number[] = [];
  private readyHead = 0;
  readonly consumers: Consumer[] = [];
  private nextConsumer = 0;
  deadLetterQueue: ReceivingEntity | undefined;

  constructor(
    /** Canonical path: `queue`, `topic/Subscriptions/sub`, or either with `/$DeadLetterQueue`. */
    readonly path: string,
    readonly properties: ReceivingProperties,
    readonly isDeadLetterQueue = false,
  ) {}

  /** Adds a copy; active ones become receivable. */
  add(envelope: Envelope): void {
    this.messages.set(envelope.seq, envelope);
    if (envelope.state === 'active' && !envelope.lock) this.makeReady(envelope.seq);
  }

  remove(seq: number): Envelope | undefined {
    const envelope = this.messages.get(seq);
    this.messages.delete(seq);
    return envelope;
  }

  /** Puts a message back in line at its sequence position (abandon, lock expiry, restart). */
  makeReady(seq: number): void {
    const tail = this.ready.length;
    if (tail === this.readyHead || (this.ready[tail - 1] ?? 0) < seq) {
      this.ready.push(seq);
      return;
    }
    let lo = this.readyHead;
    let hi = tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ready[mid] ?? 0) < seq) lo = mid + 1;
      else hi = mid;
    }
    this.ready.splice(lo, 0, seq);
  }

  /** The next receivable message, skipping copies that were removed or changed meanwhile. */
  takeReady(): Envelope | undefined {
    while (this.readyHead < this.ready.length) {
      const seq = this.ready[this.readyHead++]!;
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready.splice(0, this.readyHead);
        this.readyHead = 0;
      }
      const envelope = this.messages.get(seq);
      if (envelope && envelope.state === 'active' && !envelope.lock) return envelope;
    }
    return undefined;
  }

  hasReady(): boolean {
    return this.readyHead < this.ready.length;
  }

  /** Round-robin over consumers that have credit. */
  nextConsumerWithCredit(): Consumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const consumer = this.consumers[(this.nextConsumer + i) % this.consumers.length]!;
      if (consumer.canTake()) {
        this.nextConsumer = (this.nextConsumer + i + 1) % this.consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  /** Copies in sequence order from `fromSeq` on, for peek: active and deferred ones. */
  peek(fromSeq: number, count: number): Envelope[] {
    return [...this.messages.values()]
      .filter((e) => e.seq >= fromSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, count);
  }
}

/** A subscription with its filters: a message is copied when any rule matches (or there are none). */
export interface SubscriptionRoute {
  entity: ReceivingEntity;
  filters: CorrelationFilter[];
}

/** Where senders send: a queue (one receiving entity) or a topic (its matching subscriptions). */
export interface SendTarget {
  name: string;
  /** The queue itself for a queue; undefined for a topic. */
  queue: ReceivingEntity | undefined;
  duplicateWindowMs: number | undefined;
  defaultTtlMs: number | undefined;
  /** Largest message (or batch) accepted, in bytes: the tier's limit. */
  maxMessageSize: number;
  route(message: Message): ReceivingEntity[];
}

/**
 * Equality as a correlation filter applies it: the value and its type must match, so the filter
 * value `1` does not match the property `"1"`, nor `true` the string `"true"`.
 */
function equalTyped(expected: unknown, actual: unknown): boolean {
  if (typeof actual === 'bigint') return typeof expected === 'number' && BigInt(expected) === actual;
  return typeof expected === typeof actual && expected === actual;
}

/** Correlation filter semantics: every condition given must equal the message's value, type included. */
export function matchesCorrelation(filter: CorrelationFilter, message: Message): boolean {
  const system: [string | undefined, unknown][] = [
    [filter.ContentType, message.content_type],
    [filter.CorrelationId, message.correlation_id],
    [filter.Label, message.subject],
    [filter.MessageId, message.message_id],
    [filter.ReplyTo, message.reply_to],
    [filter.ReplyToSessionId, message.reply_to_group_id],
    [filter.SessionId, message.group_id],
    [filter.To, message.to],
  ];
  for (const [expected, actual] of system) {
    if (expected !== undefined && !equalTyped(expected, actual)) return false;
  }
  const props = (message.application_properties ?? {}) as Record<string, unknown>;
  for (const [key, expected] of Object.entries(filter.Properties ?? {})) {
    if (!equalTyped(expected, props[key])) return false;
  }
  return true;
}
