import type { Server, Socket } from 'node:net';

import {
  type Connection,
  create_container,
  type Delivery,
  type EventContext,
  type Message,
  message as amqpMessage,
  type Sender,
  type Source,
  string_to_uuid,
  type TerminusOptions,
  types,
  uuid_to_string,
} from 'rhea';

import { BrokerEngine, BrokerError, messageTooLarge, type Settlement } from './engine';
import { decodeMessage, type Envelope, type Lock, NEVER, type ReceivingEntity } from './entities';

/** Message format of a batch: an envelope whose data sections are the encoded messages. */
const BATCH_FORMAT = 0x80013700;
const MANAGEMENT_SUFFIX = '/$management';
const SESSION_FILTER = 'com.microsoft:session-filter';

/**
 * What the broker answers for features it does not have: `amqp:not-implemented`, which the SDK
 * turns into a non-retryable error at once (the SDK retries unknown conditions for ~90 s).
 */
const notImplemented = (what: string, instead: string): BrokerError =>
  new BrokerError('amqp:not-implemented', `The local Service Bus broker does not support ${what}. ${instead}`, 501);

const SESSIONS = notImplemented(
  'sessions (acceptSession, acceptNextSession, session state)',
  'Receive without sessions (createReceiver) and keep per-key order in the handler; declare entities without RequiresSession.',
);
const RULES = notImplemented(
  'rule management (ServiceBusRuleManager)',
  'Declare subscription rules (correlation filters) in the broker config file (devhost/servicebus/config.json).',
);

/** A TLS record carrying the fatal alert access_denied (49): what an HTTPS client gets on the AMQP port. */
const TLS_ACCESS_DENIED = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 49]);
const TLS_HANDSHAKE = 0x16;

/**
 * The SDK turns a delivery tag into a lock token with .NET's GUID byte order; this is its inverse
 * (the swap is its own inverse), so `tag = reorder(bytes of token)`.
 */
function reorderGuid(bytes: Buffer): Buffer {
  const b = Buffer.from(bytes);
  const out = Buffer.from(b);
  out[0] = b[3]!;
  out[1] = b[2]!;
  out[2] = b[1]!;
  out[3] = b[0]!;
  out[4] = b[5]!;
  out[5] = b[4]!;
  out[6] = b[7]!;
  out[7] = b[6]!;
  return out;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return Number(value.readBigInt64BE(0));
  if (value && typeof value === 'object' && 'toNumber' in value)
    return (value as { toNumber(): number }).toNumber();
  throw new BrokerError('amqp:invalid-field', `not a number: ${String(value)}`, 400);
}

function toArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === undefined || value === null) return [];
  return [value];
}

function tokenOf(value: unknown): string {
  if (Buffer.isBuffer(value)) return uuid_to_string(value);
  if (typeof value === 'string') return value;
  throw new BrokerError('amqp:invalid-field', 'lock tokens must be uuids', 400);
}

/** A peek-lock or receive-and-delete receiver link, seen from the broker: a rhea sender. */
class LinkConsumer {
  private readonly unsent: Delivery[] = [];

  constructor(
    readonly sender: Sender,
    readonly entity: ReceivingEntity,
    readonly peekLock: boolean,
    private readonly deliveries: WeakMap<Delivery, string>,
  ) {}

  /** Credit not yet used by deliveries rhea still holds (rhea lowers `credit` only on transfer). */
  canTake(): boolean {
    // sendable(): the link is open, has credit, and rhea's delivery buffer of the session has room.
    if (!this.sender.sendable()) return false;
    const outgoing = (this.sender.session as unknown as { outgoing: { next_pending_delivery: number } })
      .outgoing;
    while (this.unsent.length && this.unsent[0]!.id < outgoing.next_pending_delivery) this.unsent.shift();
    return (this.sender as unknown as { credit: number }).credit - this.unsent.length > 0;
  }

  deliver(envelope: Envelope, lock: Lock | undefined): void {
    const wire = wireMessage(envelope, lock);
    const tag = lock ? reorderGuid(string_to_uuid(lock.token)) : undefined;
    const delivery = tag ? this.sender.send(wire, tag) : this.sender.send(wire);
    if (lock) this.deliveries.set(delivery, lock.token);
    this.unsent.push(delivery);
  }
}

/** The message as receivers see it: the stored one plus the broker's annotations. */
function wireMessage(
  envelope: Envelope,
  lock: Lock | undefined,
  extra: Record<string, unknown> = {},
): Message {
  const annotations: Record<string, unknown> = {
    ...(envelope.message.message_annotations ?? {}),
    'x-opt-sequence-number': types.wrap_long(envelope.seq),
    'x-opt-enqueued-time': new Date(envelope.enqueuedAt),
    ...extra,
  };
  if (lock) annotations['x-opt-locked-until'] = new Date(lock.until);
  if (envelope.state === 'deferred') annotations['x-opt-message-state'] = types.wrap_int(1);
  if (envelope.state === 'scheduled') annotations['x-opt-message-state'] = types.wrap_int(2);
  const message: Record<string, unknown> = {
    ...envelope.message,
    delivery_count: envelope.deliveryCount,
    message_annotations: annotations,
  };
  if (envelope.expiresAt < NEVER && message.ttl === undefined) {
    message.ttl = Math.max(0, envelope.expiresAt - envelope.enqueuedAt);
  }
  return message as unknown as Message;
}

const outcomes = amqpMessage as unknown as {
  accepted(): { described(): unknown };
  rejected(fields: unknown): { described(): unknown };
};

function rejectedState(error: BrokerError): unknown {
  return outcomes.rejected({ error: { condition: error.condition, description: error.message } }).described();
}

function asBrokerError(e: unknown): BrokerError {
  if (e instanceof BrokerError) return e;
  return new BrokerError('amqp:internal-error', e instanceof Error ? e.message : String(e), 500);
}

export interface AmqpListenerOptions {
  port: number;
  /** Where protocol errors the broker cannot answer, and refused clients, are reported (default: nowhere). */
  log?: (line: string) => void;
}

/**
 * The AMQP 1.0 front of the broker: SASL ANONYMOUS/PLAIN, CBS put-token (always accepted), sender
 * links to queues and topics, receiver links from queues, subscriptions and dead-letter queues,
 * dispositions, and the `$management` request/response operations the SDK uses.
 */
export class AmqpListener {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly deliveries = new WeakMap<Delivery, string>();
  private readonly replyLinks = new WeakMap<Connection, Map<string, Sender>>();
  private readonly consumers = new Map<Sender, LinkConsumer>();

  constructor(
    private readonly engine: BrokerEngine,
    private readonly options: AmqpListenerOptions,
  ) {}

  async listen(): Promise<number> {
    const container = create_container({
      id: 'devhost-servicebus',
      autoaccept: false,
      autosettle: false,
      treat_modified_as_released: false,
    });
    const mechanisms = container.sasl_server_mechanisms as {
      enable_anonymous(): void;
      enable_plain(f: () => boolean): void;
    };
    mechanisms.enable_anonymous();
    mechanisms.enable_plain(() => true);

    container.on('sender_open', (ctx: EventContext) => this.onSenderOpen(ctx));
    container.on('receiver_open', (ctx: EventContext) => this.onReceiverOpen(ctx));
    container.on('message', (ctx: EventContext) => this.onMessage(ctx));
    container.on('sendable', (ctx: EventContext) => this.onSendable(ctx));
    container.on('sender_draining', (ctx: EventContext) => this.onDraining(ctx));
    for (const outcome of ['accepted', 'rejected', 'modified', 'released'] as const) {
      container.on(outcome, (ctx: EventContext) => this.onOutcome(outcome, ctx));
    }
    container.on('sender_close', (ctx: EventContext) => this.dropConsumer(ctx.sender));
    container.on('connection_close', (ctx: EventContext) => this.dropConnection(ctx.connection));
    container.on('disconnected', (ctx: EventContext) => this.dropConnection(ctx.connection));
    container.on('error', (e: unknown) =>
      this.options.log?.(`[servicebus] ${e instanceof Error ? e.message : String(e)}`),
    );
    container.on('connection_error', () => undefined);
    container.on('receiver_error', () => undefined);
    container.on('sender_error', () => undefined);

    const server = container.listen({ port: this.options.port, host: '127.0.0.1' });
    this.server = server;
    // rhea accepts every socket as AMQP; look at the first byte first, so that an HTTPS client
    // (ServiceBusAdministrationClient speaks the ATOM API over TLS to the same host and port) is
    // refused at once instead of timing out and retrying on a reset connection.
    const acceptAmqp = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.once('data', (first: Buffer) => {
        socket.pause();
        if (first[0] === TLS_HANDSHAKE) {
          this.options.log?.(
            '[servicebus] refused an HTTPS connection: the local broker does not support ServiceBusAdministrationClient (the ATOM management API); entities come from the broker config file (devhost/servicebus/config.json).',
          );
          socket.end(TLS_ACCESS_DENIED);
          return;
        }
        socket.unshift(first);
        for (const accept of acceptAmqp) accept.call(server, socket);
        socket.resume();
      });
    });
    await new Promise<void>((resolve, reject) => {
      if (server.listening) return resolve();
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Destroyed with an error so that rhea sees the disconnect ('error'; a plain destroy emits only
    // 'close', which rhea ignores) and clears the connection's heartbeat timers; otherwise they
    // would keep writing to the dead socket every 30 s and keep the process alive.
    for (const socket of this.sockets) socket.destroy(new Error('the Service Bus broker is stopping'));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private replyLinksOf(connection: Connection): Map<string, Sender> {
    let links = this.replyLinks.get(connection);
    if (!links) {
      links = new Map();
      this.replyLinks.set(connection, links);
    }
    return links;
  }

  /** A client receiver attached: a reply link ($cbs, $management) or a consumer of an entity. */
  private onSenderOpen(ctx: EventContext): void {
    const sender = ctx.sender!;
    const remote = (sender as unknown as { remote: { attach: Record<string, unknown> } }).remote.attach;
    const source = (remote.source ?? {}) as { address?: string };
    const target = (remote.target ?? {}) as { address?: string };
    sender.set_source((remote.source ?? {}) as Source);
    sender.set_target((remote.target ?? {}) as TerminusOptions);
    const address = source.address ?? '';
    const filter = (remote.source as { filter?: Record<string, unknown> } | undefined)?.filter;
    if (filter && SESSION_FILTER in filter) {
      // The attach answers without the session filter (no session was locked), then the detach
      // carries the reason.
      sender.set_source({ address });
      sender.close({ condition: SESSIONS.condition, description: SESSIONS.message });
      return;
    }
    if (address === '$cbs' || address.endsWith(MANAGEMENT_SUFFIX)) {
      // Replies go to the request's reply_to: the SDK names either the link's target or the link.
      const links = this.replyLinksOf(ctx.connection);
      links.set(sender.name, sender);
      if (target.address) links.set(target.address, sender);
      return;
    }
    const entity = this.engine.findReceiving(address);
    if (!entity) {
      sender.close({
        condition: 'amqp:not-found',
        description: `The messaging entity '${address}' could not be found.`,
      });
      return;
    }
    const peekLock = remote.snd_settle_mode !== 1;
    const local = (sender as unknown as { local: { attach: Record<string, unknown> } }).local.attach;
    local.snd_settle_mode = peekLock ? 0 : 1;
    local.rcv_settle_mode = remote.rcv_settle_mode ?? 0;
    const consumer = new LinkConsumer(sender, entity, peekLock, this.deliveries);
    this.consumers.set(sender, consumer);
    entity.consumers.push(consumer);
  }

  /** A client sender attached: to $cbs, to a $management node, or to a queue or topic. */
  private onReceiverOpen(ctx: EventContext): void {
    const receiver = ctx.receiver!;
    const remote = (receiver as unknown as { remote: { attach: Record<string, unknown> } }).remote.attach;
    const target = (remote.target ?? {}) as { address?: string };
    receiver.set_source((remote.source ?? {}) as Source);
    receiver.set_target((remote.target ?? {}) as TerminusOptions);
    const address = target.address ?? '';
    const local = (receiver as unknown as { local: { attach: Record<string, unknown> } }).local.attach;
    // The entity's limit, as Service Bus advertises it; the SDK sizes its batches by it.
    local.max_message_size = this.engine.maxMessageSize(address) ?? this.engine.largestMaxMessageSize();
    if (address === '$cbs' || address.endsWith(MANAGEMENT_SUFFIX)) return;
    if (!this.engine.findTarget(address)) {
      receiver.close({
        condition: 'amqp:not-found',
        description: `The messaging entity '${address}' could not be found.`,
      });
    }
  }

  private onMessage(ctx: EventContext): void {
    const receiver = ctx.receiver!;
    const delivery = ctx.delivery!;
    const message = ctx.message!;
    const address = (receiver.target as { address?: string } | undefined)?.address ?? '';
    if (address === '$cbs') {
      this.reply(ctx.connection, message, { 'status-code': 202, 'status-description': 'Accepted' });
      delivery.accept();
      return;
    }
    if (address.endsWith(MANAGEMENT_SUFFIX)) {
      delivery.accept();
      this.onManagement(ctx.connection, address.slice(0, -MANAGEMENT_SUFFIX.length), message);
      return;
    }
    try {
      const batch = delivery.format === BATCH_FORMAT;
      // rhea hands over non-zero formats undecoded; a single message is measured re-encoded.
      const size = batch ? (message as unknown as Buffer).length : amqpMessage.encode(message).length;
      const limit = this.engine.maxMessageSize(address);
      if (limit !== undefined && size > limit) throw messageTooLarge(delivery.id, size, limit);
      const messages = batch
        ? toArray(
            (decodeMessage(message as unknown as Buffer).body as { content?: unknown } | undefined)?.content,
          ).map((b) => decodeMessage(b as Buffer))
        : [message];
      this.engine.send(address, messages);
      delivery.accept();
    } catch (e) {
      const error = asBrokerError(e);
      delivery.reject({ condition: error.condition, description: error.message });
    }
  }

  private reply(
    connection: Connection,
    request: Message,
    applicationProperties: Record<string, unknown>,
    body?: unknown,
  ): void {
    const sender = this.replyLinksOf(connection).get(String(request.reply_to));
    if (!sender) return;
    sender.send({
      correlation_id: request.message_id,
      application_properties: applicationProperties,
      body: body ?? null,
    });
  }

  private onSendable(ctx: EventContext): void {
    const consumer = this.consumers.get(ctx.sender!);
    if (consumer) this.engine.pump(consumer.entity);
  }

  private onDraining(ctx: EventContext): void {
    const sender = ctx.sender!;
    const consumer = this.consumers.get(sender);
    if (consumer) this.engine.pump(consumer.entity);
    sender.set_drained(true);
  }

  /** The client settled a delivery: apply it and answer with a settled disposition. */
  private onOutcome(outcome: 'accepted' | 'rejected' | 'modified' | 'released', ctx: EventContext): void {
    const delivery = ctx.delivery!;
    const token = this.deliveries.get(delivery);
    if (!token) return;
    this.deliveries.delete(delivery);
    const state = (delivery.remote_state ?? {}) as {
      undeliverable_here?: boolean;
      message_annotations?: Record<string, unknown>;
      error?: { condition?: string; description?: string; info?: Record<string, unknown> };
    };
    let settlement: Settlement = 'abandon';
    const options: Parameters<BrokerEngine['settle']>[2] = {};
    if (outcome === 'accepted') settlement = 'complete';
    else if (outcome === 'modified') {
      settlement = state.undeliverable_here ? 'defer' : 'abandon';
      options.propertiesToModify = state.message_annotations;
    } else if (outcome === 'rejected') {
      settlement = 'deadletter';
      const info = { ...(state.error?.info ?? {}) };
      options.deadLetterReason = info.DeadLetterReason as string | undefined;
      options.deadLetterDescription = info.DeadLetterErrorDescription as string | undefined;
      delete info.DeadLetterReason;
      delete info.DeadLetterErrorDescription;
      options.propertiesToModify = info;
    }
    try {
      this.engine.settle(token, settlement, options);
      delivery.update(true, outcomes.accepted().described());
    } catch (e) {
      delivery.update(true, rejectedState(asBrokerError(e)));
    }
    // In settle mode "second" the client settles silently once we have: mark it, or rhea keeps the
    // delivery in the session's 2048-slot buffer forever and the link stalls.
    (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
  }

  private dropConsumer(sender: Sender | undefined): void {
    if (!sender) return;
    const consumer = this.consumers.get(sender);
    if (!consumer) return;
    this.consumers.delete(sender);
    const list = consumer.entity.consumers;
    const i = list.indexOf(consumer);
    if (i >= 0) list.splice(i, 1);
  }

  private dropConnection(connection: Connection | undefined): void {
    if (!connection) return;
    for (const sender of [...this.consumers.keys()]) {
      if (sender.connection === connection) this.dropConsumer(sender);
    }
  }

  /** `$management` request/response operations (peek, schedule, locks, deferral). */
  private onManagement(connection: Connection, entityPath: string, request: Message): void {
    const operation = String(
      (request.application_properties as Record<string, unknown> | undefined)?.operation,
    );
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const result = this.runManagement(operation, entityPath, body);
      this.reply(
        connection,
        request,
        { statusCode: result.status ?? 200, statusDescription: 'OK' },
        result.body,
      );
    } catch (e) {
      const error = asBrokerError(e);
      this.reply(connection, request, {
        statusCode: error.statusCode,
        statusDescription: error.message,
        errorCondition: error.condition,
      });
    }
  }

  private entityOrThrow(path: string): ReceivingEntity {
    const entity = this.engine.findReceiving(path);
    if (!entity)
      throw new BrokerError('amqp:not-found', `The messaging entity '${path}' could not be found.`, 404);
    return entity;
  }

  private runManagement(
    operation: string,
    entityPath: string,
    body: Record<string, unknown>,
  ): { status?: number; body?: unknown } {
    switch (operation) {
      case 'com.microsoft:peek-message': {
        const entity = this.entityOrThrow(entityPath);
        const found = this.engine.peek(
          entity,
          toNumber(body['from-sequence-number']),
          toNumber(body['message-count']),
        );
        if (found.length === 0) return { status: 204 };
        return {
          body: { messages: found.map((e) => ({ message: amqpMessage.encode(wireMessage(e, e.lock)) })) },
        };
      }
      case 'com.microsoft:schedule-message': {
        const limit = this.engine.maxMessageSize(entityPath);
        const messages = toArray(body.messages).map((entry, i) => {
          const encoded = (entry as { message: Buffer }).message;
          if (limit !== undefined && encoded.length > limit) throw messageTooLarge(i, encoded.length, limit);
          return decodeMessage(encoded);
        });
        const seqs = this.engine.schedule(entityPath, messages);
        return { body: { 'sequence-numbers': seqs.map((s) => types.wrap_long(s)) } };
      }
      case 'com.microsoft:cancel-scheduled-message':
        this.engine.cancelScheduled(entityPath, toArray(body['sequence-numbers']).map(toNumber));
        return {};
      case 'com.microsoft:renew-lock': {
        const expirations = toArray(body['lock-tokens']).map(
          (t) => new Date(this.engine.renewLock(tokenOf(t))),
        );
        return { body: { expirations } };
      }
      case 'com.microsoft:receive-by-sequence-number': {
        const entity = this.entityOrThrow(entityPath);
        const peekLock = toNumber(body['receiver-settle-mode'] ?? 1) !== 0;
        const received = this.engine.receiveDeferred(
          entity,
          toArray(body['sequence-numbers']).map(toNumber),
          peekLock,
        );
        return {
          body: {
            messages: received.map(({ envelope, lock }) => ({
              message: amqpMessage.encode(wireMessage(envelope, lock)),
              'lock-token': types.wrap_uuid(
                string_to_uuid(lock?.token ?? '00000000-0000-0000-0000-000000000000'),
              ),
            })),
          },
        };
      }
      case 'com.microsoft:update-disposition': {
        const status = String(body['disposition-status']);
        const settlement: Settlement =
          status === 'completed'
            ? 'complete'
            : status === 'suspended'
              ? 'deadletter'
              : status === 'defered'
                ? 'defer'
                : 'abandon';
        for (const t of toArray(body['lock-tokens'])) {
          this.engine.settle(tokenOf(t), settlement, {
            deadLetterReason: body['deadletter-reason'] as string | undefined,
            deadLetterDescription: body['deadletter-description'] as string | undefined,
            propertiesToModify: body['properties-to-modify'] as Record<string, unknown> | undefined,
          });
        }
        return {};
      }
      case 'com.microsoft:add-rule':
      case 'com.microsoft:remove-rule':
      case 'com.microsoft:enumerate-rules':
        throw RULES;
      case 'com.microsoft:renew-session-lock':
      case 'com.microsoft:get-session-state':
      case 'com.microsoft:set-session-state':
      case 'com.microsoft:get-message-sessions':
        throw SESSIONS;
      default:
        throw notImplemented(`the management operation '${operation}'`, 'See docs/servicebus-broker.md for what it supports.');
    }
  }
}
