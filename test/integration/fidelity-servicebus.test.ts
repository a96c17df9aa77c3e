/**
 * Fidelity suite, Service Bus part: the patterns of the @azure/service-bus v7 samples (send,
 * receive, schedule, defer, dead-letter, TTL, duplicate detection, filters, size limits) against
 * the local broker, asserting what the service answers (issue 15 items 6-8).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  ServiceBusAdministrationClient,
  ServiceBusClient,
  type ServiceBusError,
  type ServiceBusReceivedMessage,
} from '@azure/service-bus';
import Database from 'better-sqlite3';
import { message as amqpMessage } from 'rhea';

import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { brokerConfig, receiveAll, receiveAtLeast } from '../support/servicebus';

let broker: RunningServiceBusBroker;
let client: ServiceBusClient;
const refused: string[] = [];

beforeAll(async () => {
  broker = await startServiceBusBroker({
    log: (line) => refused.push(line),
    config: brokerConfig(
      {
        orders: {},
        invoices: {},
        poison: {},
        scheduled: {},
        deferrals: { MaxDeliveryCount: 5 },
        'short-ttl': { DefaultMessageTimeToLive: 'PT1H' },
        dedup: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' },
        sized: {},
      },
      [
        {
          Name: 'alerts',
          Properties: { DefaultMessageTimeToLive: 'P1D' },
          Subscriptions: [
            { Name: 'all' },
            {
              Name: 'priority-one',
              Rules: [
                {
                  Name: 'numeric-one',
                  Properties: { FilterType: 'Correlation', CorrelationFilter: { Properties: { priority: 1 } } },
                },
              ],
            },
            {
              Name: 'flagged',
              Rules: [
                {
                  Name: 'flag-true',
                  Properties: { FilterType: 'Correlation', CorrelationFilter: { Properties: { urgent: true } } },
                },
              ],
            },
          ],
        },
      ],
    ),
  });
  client = new ServiceBusClient(broker.connectionString);
});

afterAll(async () => {
  await client.close();
  await broker.stop();
});

const seqOf = (m: ServiceBusReceivedMessage | undefined): number => m?.sequenceNumber?.toNumber() ?? -1;

describe('fidelity: send and receive (sendMessages / receiveMessagesLoop samples)', () => {
  it('when messages are sent singly, as an array and as a batch, then each arrives once in order', async () => {
    const sender = client.createSender('orders');
    await sender.sendMessages({ body: 'one', messageId: 'o-1' });
    await sender.sendMessages([{ body: 'two' }, { body: 'three' }]);
    const batch = await sender.createMessageBatch();
    expect(batch.tryAddMessage({ body: 'four' })).toBe(true);
    await sender.sendMessages(batch);
    const receiver = client.createReceiver('orders');
    const got = await receiveAtLeast(receiver, 4);
    expect(got.map((m) => m.body as unknown)).toEqual(['one', 'two', 'three', 'four']);
    for (const m of got) await receiver.completeMessage(m);
    await Promise.all([sender.close(), receiver.close()]);
  });
});

describe('fidelity: sequence numbers are per entity and stay with the message', () => {
  it('when two queues get their first messages, then each queue numbers from 1 (not one counter for the broker)', async () => {
    await client.createSender('invoices').sendMessages([{ body: 'i1' }, { body: 'i2' }]);
    const peeked = await client.createReceiver('invoices').peekMessages(10);
    expect(peeked.map(seqOf)).toEqual([1, 2]);
  });

  it('when a topic fans a message out, then every subscription copy has the topic\'s sequence number', async () => {
    await client.createSender('alerts').sendMessages({ body: 'fan', applicationProperties: { priority: 1, urgent: true } });
    const all = await receiveAtLeast(client.createReceiver('alerts', 'all', { receiveMode: 'receiveAndDelete' }), 1);
    const one = await receiveAtLeast(client.createReceiver('alerts', 'priority-one', { receiveMode: 'receiveAndDelete' }), 1);
    const flagged = await receiveAtLeast(client.createReceiver('alerts', 'flagged', { receiveMode: 'receiveAndDelete' }), 1);
    expect(seqOf(all[0])).toBe(seqOf(one[0]));
    expect(seqOf(flagged[0])).toBe(seqOf(one[0]));
  });

  it('when a message is dead-lettered, then it keeps its sequence number, enqueued time and delivery count', async () => {
    await client.createSender('poison').sendMessages([{ body: 'first' }, { body: 'poison', messageId: 'dl-seq' }]);
    const receiver = client.createReceiver('poison');
    const [first, message] = await receiveAtLeast(receiver, 2);
    await receiver.completeMessage(first!);
    await receiver.abandonMessage(message!);
    const [again] = await receiveAtLeast(receiver, 1);
    expect(again).toMatchObject({ messageId: 'dl-seq', deliveryCount: 1 });
    await receiver.deadLetterMessage(again!, { deadLetterReason: 'Bad', deadLetterErrorDescription: 'bad body' });
    const [dead] = await receiveAtLeast(client.createReceiver('poison', { subQueueType: 'deadLetter' }), 1);
    expect(seqOf(dead)).toBe(2);
    expect(seqOf(dead)).toBe(seqOf(message));
    expect(dead!.enqueuedTimeUtc).toEqual(message!.enqueuedTimeUtc);
    expect(dead!.deliveryCount).toBe(1);
    expect(dead!.deadLetterSource).toBeUndefined();
  });
});

describe('fidelity: scheduled messages (scheduledMessages sample)', () => {
  it('when a message is scheduled, then peek shows it as scheduled with the number scheduleMessages returned, and it arrives with that number', async () => {
    const sender = client.createSender('scheduled');
    const at = new Date(Date.now() + 600);
    const [seq] = await sender.scheduleMessages({ body: 'later', messageId: 'sch-1' }, at);
    const receiver = client.createReceiver('scheduled');
    const peeked = await receiver.peekMessages(10);
    expect(peeked).toHaveLength(1);
    expect(peeked[0]).toMatchObject({ messageId: 'sch-1', state: 'scheduled' });
    expect(seqOf(peeked[0])).toBe(seq!.toNumber());

    const [arrived] = await receiveAtLeast(receiver, 1, 3000);
    expect(arrived).toMatchObject({ messageId: 'sch-1', state: 'active' });
    expect(seqOf(arrived)).toBe(seq!.toNumber());
    expect(arrived!.enqueuedTimeUtc!.getTime()).toBe(at.getTime());
    await receiver.completeMessage(arrived!);

    const [cancelled] = await sender.scheduleMessages({ body: 'never' }, new Date(Date.now() + 60_000));
    await sender.cancelScheduledMessages(cancelled!);
    expect(await receiver.peekMessages(10)).toHaveLength(0);
  });
});

describe('fidelity: deferral (processMessageDeferral sample, the SDK\'s deferredMessage.spec.ts counts)', () => {
  async function deferOne(id: string) {
    await client.createSender('deferrals').sendMessages({ body: id, messageId: id });
    const receiver = client.createReceiver('deferrals');
    const [message] = await receiveAtLeast(receiver, 1);
    expect(message!.deliveryCount).toBe(0);
    await receiver.deferMessage(message!);
    const [deferred] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    expect(deferred!.deliveryCount).toBe(1);
    return { receiver, deferred: deferred!, seq: message!.sequenceNumber! };
  }

  it('when a deferred message is abandoned or deferred again, then it is received by sequence number with deliveryCount 2', async () => {
    const a = await deferOne('def-abandon');
    await a.receiver.abandonMessage(a.deferred);
    const [afterAbandon] = await a.receiver.receiveDeferredMessages(a.seq);
    expect(afterAbandon!.deliveryCount).toBe(2);
    await a.receiver.completeMessage(afterAbandon!);

    const d = await deferOne('def-again');
    await d.receiver.deferMessage(d.deferred);
    const [afterDefer] = await d.receiver.receiveDeferredMessages(d.seq);
    expect(afterDefer!.deliveryCount).toBe(2);
    await d.receiver.completeMessage(afterDefer!);
  });

  it('when a deferred message is dead-lettered, then the dead-letter queue shows it with deliveryCount 1', async () => {
    const { receiver, deferred } = await deferOne('def-dead');
    await receiver.deadLetterMessage(deferred);
    const dlq = client.createReceiver('deferrals', { subQueueType: 'deadLetter' });
    const [dead] = await receiveAtLeast(dlq, 1);
    expect(dead).toMatchObject({ messageId: 'def-dead', deliveryCount: 1 });
    await dlq.completeMessage(dead!);
    expect(await receiver.peekMessages(10)).toHaveLength(0);
  });
});

describe('fidelity: time to live and duplicate detection', () => {
  it('when a message asks for a longer TTL than its entity allows, then the receiver sees the entity\'s TTL', async () => {
    await client.createSender('short-ttl').sendMessages({ body: 'x', timeToLive: 24 * 3_600_000 });
    const [m] = await receiveAtLeast(client.createReceiver('short-ttl', { receiveMode: 'receiveAndDelete' }), 1);
    expect(m!.timeToLive).toBe(3_600_000);
    expect(m!.expiresAtUtc!.getTime() - m!.enqueuedTimeUtc!.getTime()).toBe(3_600_000);
  });

  it('when a topic message has no TTL, then each subscription copy carries the topic\'s default', async () => {
    await client.createSender('alerts').sendMessages({ body: 'ttl', applicationProperties: { priority: 2 } });
    const [m] = await receiveAtLeast(client.createReceiver('alerts', 'all', { receiveMode: 'receiveAndDelete' }), 1);
    expect(m!.timeToLive).toBe(24 * 3_600_000);
  });

  it('when the same message id is sent three times inside the window, then it is received once', async () => {
    const sender = client.createSender('dedup');
    for (let i = 0; i < 3; i++) await sender.sendMessages({ body: i, messageId: 'same' });
    const got = await receiveAll(client.createReceiver('dedup', { receiveMode: 'receiveAndDelete' }), 300);
    expect(got.map((m) => m.body as unknown)).toEqual([0]);
  });
});

describe('fidelity: correlation filters compare value and type', () => {
  it('when properties have the filter\'s value in another type, then the filtered subscriptions do not get them', async () => {
    const sender = client.createSender('alerts');
    await sender.sendMessages([
      { body: 'number', applicationProperties: { priority: 1, urgent: true } },
      { body: 'string', applicationProperties: { priority: '1', urgent: 'true' } },
    ]);
    const one = await receiveAll(client.createReceiver('alerts', 'priority-one', { receiveMode: 'receiveAndDelete' }), 150);
    const flagged = await receiveAll(client.createReceiver('alerts', 'flagged', { receiveMode: 'receiveAndDelete' }), 150);
    expect(one.map((m) => m.body as unknown)).toEqual(['number']);
    expect(flagged.map((m) => m.body as unknown)).toEqual(['number']);
    await receiveAll(client.createReceiver('alerts', 'all', { receiveMode: 'receiveAndDelete' }), 100);
  });
});

describe('fidelity: message size limits', () => {
  it('when a Standard entity gets a message over 256 KB, then the send fails at once with MessageSizeExceeded and nothing is stored', async () => {
    const sender = client.createSender('sized');
    const started = Date.now();
    const error = (await sender.sendMessages({ body: Buffer.alloc(300 * 1024, 1) }).catch((e: unknown) => e)) as ServiceBusError;
    expect(error.code).toBe('MessageSizeExceeded');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/exceeds the limit \(262144 bytes\) currently allowed on the link/);
    expect(Date.now() - started).toBeLessThan(2000);
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(262144);
    await sender.sendMessages({ body: Buffer.alloc(200 * 1024, 2) });
    const got = await receiveAll(client.createReceiver('sized', { receiveMode: 'receiveAndDelete' }), 200);
    expect(got.map((m) => (m.body as Buffer).length)).toEqual([200 * 1024]);
  });

  it('when a Premium entity allows 4 MB, then a 3 MB message passes and a 5 MB one is refused; the default is 1 MB', async () => {
    const premium = await startServiceBusBroker({
      config: brokerConfig({ large: { MaxMessageSizeInKilobytes: 4096 }, standard: {} }, [], 'Premium'),
    });
    const premiumClient = new ServiceBusClient(premium.connectionString);
    try {
      const large = premiumClient.createSender('large');
      await large.sendMessages({ body: Buffer.alloc(3 * 1024 * 1024, 3) });
      await expect(large.sendMessages({ body: Buffer.alloc(5 * 1024 * 1024, 5) })).rejects.toMatchObject({ code: 'MessageSizeExceeded' });
      await expect(premiumClient.createSender('standard').sendMessages({ body: Buffer.alloc(1100 * 1024) })).rejects.toMatchObject({
        code: 'MessageSizeExceeded',
      });
    } finally {
      await premiumClient.close();
      await premium.stop();
    }
  });
});

describe('fidelity: unsupported features fail at once, not retried, saying what to use', () => {
  const fast = async (what: () => Promise<unknown>): Promise<{ error: ServiceBusError; ms: number }> => {
    const started = Date.now();
    const error = (await what().then(
      () => undefined,
      (e: unknown) => e,
    )) as ServiceBusError;
    return { error, ms: Date.now() - started };
  };

  it('when a session is accepted, then the error says sessions are not supported locally', async () => {
    for (const accept of [() => client.acceptSession('orders', 'session-1'), () => client.acceptNextSession('orders')]) {
      const { error, ms } = await fast(accept);
      expect(error.message).toMatch(/local Service Bus broker does not support sessions.*Receive without sessions \(createReceiver\)/);
      expect(error.retryable).toBe(false);
      expect(ms).toBeLessThan(2000);
    }
  });

  it('when the rule manager lists or adds rules, then the error points to the config file', async () => {
    const rules = client.createRuleManager('alerts', 'all');
    const { error, ms } = await fast(() => rules.createRule('extra', { correlationId: 'x' }));
    expect(error.message).toMatch(/does not support rule management .*config file/);
    expect(error.retryable).toBe(false);
    expect(ms).toBeLessThan(2000);
    await expect(rules.listRules().next()).rejects.toThrow(/does not support rule management/);
  });

  it('when the administration client is used, then it fails at once and the broker says why', async () => {
    const admin = new ServiceBusAdministrationClient(broker.connectionString);
    const { error, ms } = await fast(() => admin.getQueue('orders'));
    expect(error).toBeInstanceOf(Error);
    expect(ms).toBeLessThan(2000);
    expect(refused.some((l) => l.includes('does not support ServiceBusAdministrationClient'))).toBe(true);
  });
});

describe('fidelity: sequence numbers survive restarts', () => {
  it('when every message was completed and the broker restarts, then numbering continues (a number is never reused)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fidelity-sb-'));
    const config = brokerConfig({ q: {} });
    try {
      let restartable = await startServiceBusBroker({ config, dataDir });
      let c = new ServiceBusClient(restartable.connectionString);
      await c.createSender('q').sendMessages([{ body: 1 }, { body: 2 }]);
      expect((await receiveAtLeast(c.createReceiver('q', { receiveMode: 'receiveAndDelete' }), 2)).map(seqOf)).toEqual([1, 2]);
      await c.close();
      await restartable.stop();

      restartable = await startServiceBusBroker({ config, dataDir });
      c = new ServiceBusClient(restartable.connectionString);
      await c.createSender('q').sendMessages({ body: 3 });
      expect((await receiveAtLeast(c.createReceiver('q', { receiveMode: 'receiveAndDelete' }), 1)).map(seqOf)).toEqual([3]);
      await c.close();
      await restartable.stop();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('when a store from before per-entity numbering is opened, then its messages keep their numbers and new ones come after', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fidelity-sb-old-'));
    try {
      const db = new Database(path.join(dataDir, 'messages.sqlite'));
      db.exec(`CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL, state TEXT NOT NULL,
        enqueued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, visible_at INTEGER NOT NULL, delivery_count INTEGER NOT NULL, body BLOB NOT NULL)`);
      const insert = db.prepare('INSERT INTO messages (seq, entity, state, enqueued_at, expires_at, visible_at, delivery_count, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      insert.run(41, 'q', 'active', Date.now(), 253402300799999, Date.now(), 0, amqpMessage.encode({ body: 'old', message_id: 'old-1' }));
      db.close();
      const old = await startServiceBusBroker({ config: brokerConfig({ q: {} }), dataDir });
      const c = new ServiceBusClient(old.connectionString);
      await c.createSender('q').sendMessages({ body: 'new' });
      const got = await receiveAtLeast(c.createReceiver('q', { receiveMode: 'receiveAndDelete' }), 2);
      expect(got.map((m) => [m.body as unknown, seqOf(m)])).toEqual([
        ['old', 41],
        ['new', 42],
      ]);
      await c.close();
      await old.stop();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
