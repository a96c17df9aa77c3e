import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';

import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { brokerConfig, receiveAll, receiveAtLeast, sleep } from '../support/servicebus';

/** The broker's own features, exercised only through the public @azure/service-bus API. */
describe('local Service Bus broker', () => {
  let broker: RunningServiceBusBroker;
  let client: ServiceBusClient;

  beforeAll(async () => {
    broker = await startServiceBusBroker({
      config: brokerConfig(
        {
          work: { LockDuration: 'PT30S', MaxDeliveryCount: 5 },
          'short-lock': { LockDuration: 'PT1S', MaxDeliveryCount: 10 },
          renewing: { LockDuration: 'PT2S' },
          poison: { MaxDeliveryCount: 3 },
          expiring: { DefaultMessageTimeToLive: 'PT1S', DeadLetteringOnMessageExpiration: true },
          'expiring-quietly': { DefaultMessageTimeToLive: 'PT1S' },
          dedup: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' },
          scheduled: {},
          deferral: {},
          peeking: {},
          'receive-delete': {},
        },
        [
          {
            Name: 'events',
            Subscriptions: [
              { Name: 'everything' },
              {
                Name: 'drift-only',
                Rules: [
                  {
                    Name: 'drift',
                    Properties: { FilterType: 'Correlation', CorrelationFilter: { Label: 'drift' } },
                  },
                ],
              },
              {
                Name: 'model-a',
                Rules: [
                  {
                    Name: 'a',
                    Properties: {
                      FilterType: 'Correlation',
                      CorrelationFilter: { Properties: { model: 'a' } },
                    },
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

  it('when a message is sent and received in peek-lock, then its properties arrive and complete removes it', async () => {
    const sender = client.createSender('work');
    await sender.sendMessages({
      body: { hello: 'world' },
      messageId: 'm-1',
      subject: 'greeting',
      correlationId: 'c-1',
      contentType: 'application/json',
      applicationProperties: { model: 'churn', version: 3 },
    });
    const receiver = client.createReceiver('work');
    const [message] = await receiveAtLeast(receiver, 1);
    expect(message).toMatchObject({
      body: { hello: 'world' },
      messageId: 'm-1',
      subject: 'greeting',
      correlationId: 'c-1',
      contentType: 'application/json',
      applicationProperties: { model: 'churn', version: 3 },
      deliveryCount: 0,
    });
    expect(message!.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(message!.sequenceNumber!.toNumber()).toBeGreaterThan(0);
    expect(message!.enqueuedTimeUtc!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(message!.lockedUntilUtc!.getTime()).toBeGreaterThan(Date.now() + 20_000);
    await receiver.completeMessage(message!);
    expect(await receiveAll(receiver)).toHaveLength(0);
    await receiver.close();
  });

  it('when a batch is sent, then every message in it is delivered in order and ids are assigned', async () => {
    const sender = client.createSender('work');
    const batch = await sender.createMessageBatch();
    for (let i = 0; i < 25; i++) expect(batch.tryAddMessage({ body: i })).toBe(true);
    await sender.sendMessages(batch);
    const receiver = client.createReceiver('work', { receiveMode: 'receiveAndDelete' });
    const got = await receiveAtLeast(receiver, 25);
    expect(got.map((m) => m.body)).toEqual([...Array(25).keys()]);
    expect(new Set(got.map((m) => m.messageId)).size).toBe(25);
    await receiver.close();
  });

  it('when received in receive-and-delete mode, then the message is gone without settlement', async () => {
    const sender = client.createSender('receive-delete');
    await sender.sendMessages([{ body: 1 }, { body: 2 }]);
    const receiver = client.createReceiver('receive-delete', { receiveMode: 'receiveAndDelete' });
    const got = await receiveAtLeast(receiver, 2);
    expect(got.map((m) => m.body)).toEqual([1, 2]);
    expect(got[0]!.lockToken).toBeUndefined();
    const peeker = client.createReceiver('receive-delete');
    expect(await peeker.peekMessages(10)).toHaveLength(0);
    await Promise.all([receiver.close(), peeker.close()]);
  });

  it('when a message is abandoned, then it is redelivered with a higher delivery count and modified properties', async () => {
    await client.createSender('work').sendMessages({ body: 'again', messageId: 'abandon-me' });
    const receiver = client.createReceiver('work');
    const [first] = await receiveAtLeast(receiver, 1);
    await receiver.abandonMessage(first!, { attempt: 'one' });
    const [second] = await receiveAtLeast(receiver, 1);
    expect(second).toMatchObject({
      messageId: 'abandon-me',
      deliveryCount: 1,
      applicationProperties: { attempt: 'one' },
    });
    await receiver.completeMessage(second!);
    await receiver.close();
  });

  it('when a message is dead-lettered with a reason, then the dead-letter queue holds it with reason and description (no source: that is only for auto-forwarded dead letters)', async () => {
    await client.createSender('work').sendMessages({ body: 'bad', messageId: 'dl-1' });
    const receiver = client.createReceiver('work');
    const [message] = await receiveAtLeast(receiver, 1);
    await receiver.deadLetterMessage(message!, {
      deadLetterReason: 'SchemaInvalid',
      deadLetterErrorDescription: 'model is missing',
    });
    const dlq = client.createReceiver('work', { subQueueType: 'deadLetter' });
    const [dead] = await receiveAtLeast(dlq, 1);
    expect(dead).toMatchObject({
      messageId: 'dl-1',
      body: 'bad',
      deadLetterReason: 'SchemaInvalid',
      deadLetterErrorDescription: 'model is missing',
      sequenceNumber: message!.sequenceNumber,
    });
    expect(dead!.deadLetterSource).toBeUndefined();
    await dlq.completeMessage(dead!);
    expect(await receiveAll(receiver)).toHaveLength(0);
    await Promise.all([receiver.close(), dlq.close()]);
  });

  it('when a handler always fails, then the message is delivered max-delivery-count times and then sits in the dead-letter queue', async () => {
    await client.createSender('poison').sendMessages({ body: 'poison', messageId: 'p-1' });
    const receiver = client.createReceiver('poison');
    const deliveries: number[] = [];
    const subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          deliveries.push(message.deliveryCount!);
          throw new Error('handler always fails');
        },
        processError: async () => undefined,
      },
      { autoCompleteMessages: true },
    );
    const dlq = client.createReceiver('poison', { subQueueType: 'deadLetter' });
    const [dead] = await receiveAtLeast(dlq, 1, 10_000);
    await subscription.close();
    expect(deliveries).toEqual([0, 1, 2]);
    expect(dead).toMatchObject({
      messageId: 'p-1',
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deliveryCount: 3,
    });
    await dlq.completeMessage(dead!);
    await Promise.all([receiver.close(), dlq.close()]);
  });

  it('when a lock expires without settlement, then the message is redelivered and the old lock is lost', async () => {
    await client.createSender('short-lock').sendMessages({ body: 'slow', messageId: 'slow-1' });
    const receiver = client.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
    const [first] = await receiveAtLeast(receiver, 1);
    await sleep(1500);
    const [second] = await receiveAtLeast(receiver, 1);
    expect(second).toMatchObject({ messageId: 'slow-1', deliveryCount: 1 });
    await expect(receiver.completeMessage(first!)).rejects.toMatchObject({ code: 'MessageLockLost' });
    await receiver.completeMessage(second!);
    await receiver.close();
  });

  it('when a lock is renewed, then the message stays locked past its first expiry', async () => {
    await client.createSender('renewing').sendMessages({ body: 'renewed', messageId: 'renew-1' });
    const receiver = client.createReceiver('renewing', { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiveAtLeast(receiver, 1);
    const firstExpiry = message!.lockedUntilUtc!.getTime();
    for (let i = 0; i < 3; i++) {
      await sleep(700);
      const until = await receiver.renewMessageLock(message!);
      expect(until.getTime()).toBeGreaterThan(firstExpiry);
    }
    const other = client.createReceiver('renewing');
    expect(await receiveAll(other, 300)).toHaveLength(0);
    await receiver.completeMessage(message!);
    await Promise.all([receiver.close(), other.close()]);
  });

  it('when a message outlives its time to live on an entity that dead-letters on expiry, then it moves to the dead-letter queue', async () => {
    await client.createSender('expiring').sendMessages({ body: 'stale', messageId: 'ttl-1' });
    await sleep(1500);
    const receiver = client.createReceiver('expiring');
    expect(await receiveAll(receiver, 300)).toHaveLength(0);
    const dlq = client.createReceiver('expiring', { subQueueType: 'deadLetter' });
    const [dead] = await receiveAtLeast(dlq, 1);
    expect(dead).toMatchObject({ messageId: 'ttl-1', deadLetterReason: 'TTLExpiredException' });
    await dlq.completeMessage(dead!);
    await Promise.all([receiver.close(), dlq.close()]);
  });

  it('when a message with its own short time to live expires on an entity without expiry dead-lettering, then it is dropped', async () => {
    const sender = client.createSender('expiring-quietly');
    await sender.sendMessages([{ body: 'short', timeToLive: 300 }]);
    await sleep(1200);
    const receiver = client.createReceiver('expiring-quietly');
    const dlq = client.createReceiver('expiring-quietly', { subQueueType: 'deadLetter' });
    expect(await receiveAll(receiver, 300)).toHaveLength(0);
    expect(await receiveAll(dlq, 300)).toHaveLength(0);
    await Promise.all([receiver.close(), dlq.close()]);
  });

  it('when 100 messages with 10 distinct ids are sent inside the duplicate detection window, then 10 are delivered', async () => {
    const sender = client.createSender('dedup');
    for (let i = 0; i < 100; i++) {
      await sender.sendMessages({ body: i, messageId: `id-${i % 10}` });
    }
    const receiver = client.createReceiver('dedup', { receiveMode: 'receiveAndDelete' });
    const got = await receiveAll(receiver);
    expect(got.map((m) => m.messageId).sort()).toEqual([...Array(10).keys()].map((i) => `id-${i}`).sort());
    expect(got.map((m) => m.body)).toEqual([...Array(10).keys()]);
    await receiver.close();
  });

  it('when the same message id is scheduled twice inside the duplicate detection window, then both calls get a sequence number and it is delivered once', async () => {
    const sender = client.createSender('dedup');
    const due = new Date(Date.now() + 300);
    const first = await sender.scheduleMessages({ body: 'reminder', messageId: 'sched-dup' }, due);
    const again = await sender.scheduleMessages({ body: 'reminder', messageId: 'sched-dup' }, due);
    expect(first).toHaveLength(1);
    expect(again).toHaveLength(1);
    expect(again[0]!.toNumber()).toBeGreaterThan(first[0]!.toNumber());
    await sleep(600);
    const receiver = client.createReceiver('dedup', { receiveMode: 'receiveAndDelete' });
    const got = await receiveAll(receiver);
    expect(got.map((m) => [m.messageId, m.sequenceNumber!.toNumber()])).toEqual([
      ['sched-dup', first[0]!.toNumber()],
    ]);
    await receiver.close();
  });

  it('when a message is scheduled 2 s ahead, then it is not received before then and is received after', async () => {
    const sender = client.createSender('scheduled');
    const due = new Date(Date.now() + 2000);
    await sender.scheduleMessages({ body: 'later', messageId: 'sched-1' }, due);
    const receiver = client.createReceiver('scheduled');
    const early = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1500 });
    expect(early).toHaveLength(0);
    const [message] = await receiveAtLeast(receiver, 1, 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(due.getTime());
    expect(message).toMatchObject({ messageId: 'sched-1', body: 'later' });
    expect(message!.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(due.getTime());
    await receiver.completeMessage(message!);
    await receiver.close();
  });

  it('when a scheduled message is cancelled, then it is never delivered', async () => {
    const sender = client.createSender('scheduled');
    const [seq] = await sender.scheduleMessages({ body: 'never' }, new Date(Date.now() + 500));
    await sender.cancelScheduledMessages(seq!);
    await sleep(800);
    const receiver = client.createReceiver('scheduled');
    expect(await receiveAll(receiver, 300)).toHaveLength(0);
    await receiver.close();
  });

  it('when a cancelled or already enqueued scheduled message is cancelled, then the SDK gets MessageNotFound and nothing else is cancelled', async () => {
    const sender = client.createSender('scheduled');
    const [cancelled] = await sender.scheduleMessages({ body: 'cancelled' }, new Date(Date.now() + 60_000));
    const [fired] = await sender.scheduleMessages({ body: 'fired' }, new Date(Date.now() + 200));
    const [waiting] = await sender.scheduleMessages({ body: 'waiting' }, new Date(Date.now() + 700));
    await sender.cancelScheduledMessages(cancelled!);
    await expect(sender.cancelScheduledMessages(cancelled!)).rejects.toMatchObject({
      code: 'MessageNotFound',
      message: expect.stringContaining(`Missing sequence numbers: ${cancelled!.toNumber()}`),
    });
    await sleep(400);
    await expect(sender.cancelScheduledMessages([waiting!, fired!])).rejects.toMatchObject({
      code: 'MessageNotFound',
      message: expect.stringContaining(`Missing sequence numbers: ${fired!.toNumber()}`),
    });
    await sleep(600);
    const receiver = client.createReceiver('scheduled', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAll(receiver)).map((m) => m.body).sort()).toEqual(['fired', 'waiting']);
    await receiver.close();
  });

  it('when a message is deferred, then it is only received by sequence number and can be completed', async () => {
    await client.createSender('deferral').sendMessages({ body: 'later please', messageId: 'def-1' });
    const receiver = client.createReceiver('deferral');
    const [message] = await receiveAtLeast(receiver, 1);
    await receiver.deferMessage(message!);
    expect(await receiveAll(receiver, 300)).toHaveLength(0);
    const [deferred] = await receiver.receiveDeferredMessages(message!.sequenceNumber!);
    expect(deferred).toMatchObject({ messageId: 'def-1', state: 'deferred', deliveryCount: 1 });
    await receiver.renewMessageLock(deferred!);
    await receiver.completeMessage(deferred!);
    await expect(receiver.receiveDeferredMessages(message!.sequenceNumber!)).rejects.toMatchObject({
      code: 'MessageNotFound',
    });
    await receiver.close();
  });

  it('when messages are peeked, then they are shown in order without being locked', async () => {
    await client.createSender('peeking').sendMessages([{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
    const peeker = client.createReceiver('peeking');
    const peeked = await peeker.peekMessages(2);
    expect(peeked.map((m) => m.body)).toEqual(['a', 'b']);
    expect(peeked[0]!.lockToken).toBeUndefined();
    const next = await peeker.peekMessages(5);
    expect(next.map((m) => m.body)).toEqual(['c']);
    const receiver = client.createReceiver('peeking', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAtLeast(receiver, 3)).map((m) => m.body)).toEqual(['a', 'b', 'c']);
    await Promise.all([peeker.close(), receiver.close()]);
  });

  it('when a message is published to a topic, then each subscription whose filter matches gets its own copy', async () => {
    const sender = client.createSender('events');
    await sender.sendMessages([
      { body: 1, subject: 'drift', applicationProperties: { model: 'a' } },
      { body: 2, subject: 'run', applicationProperties: { model: 'b' } },
      { body: 3, subject: 'drift', applicationProperties: { model: 'b' } },
    ]);
    const bodies = async (sub: string): Promise<unknown[]> => {
      const receiver = client.createReceiver('events', sub, { receiveMode: 'receiveAndDelete' });
      const got: ServiceBusReceivedMessage[] = await receiveAll(receiver);
      await receiver.close();
      return got.map((m) => m.body);
    };
    expect(await bodies('everything')).toEqual([1, 2, 3]);
    expect(await bodies('drift-only')).toEqual([1, 3]);
    expect(await bodies('model-a')).toEqual([1]);
  });

  it('when a subscription copy is completed, then the other subscriptions keep theirs', async () => {
    await client
      .createSender('events')
      .sendMessages({ body: 'shared', subject: 'drift', applicationProperties: { model: 'a' } });
    const a = client.createReceiver('events', 'drift-only');
    const [copy] = await receiveAtLeast(a, 1);
    await a.completeMessage(copy!);
    const b = client.createReceiver('events', 'model-a', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAtLeast(b, 1)).map((m) => m.body)).toEqual(['shared']);
    const everything = client.createReceiver('events', 'everything', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAtLeast(everything, 1)).map((m) => m.body)).toEqual(['shared']);
    await Promise.all([a.close(), b.close(), everything.close()]);
  });

  it('when a sender targets an entity that is not declared, then sending fails with MessagingEntityNotFound', async () => {
    const sender = client.createSender('no-such-queue');
    await expect(sender.sendMessages({ body: 1 })).rejects.toMatchObject({ code: 'MessagingEntityNotFound' });
    await sender.close();
  });
});
