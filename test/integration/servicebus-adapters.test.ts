import { randomUUID } from 'node:crypto';

import { ServiceBusClient } from '@azure/service-bus';

import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import {
  closeServiceBus,
  createServiceBusClient,
  serviceBusClient,
  serviceBusSender,
} from '../../shared/adapters/servicebus/client';
import { ServiceBusEventPublisher } from '../../shared/adapters/servicebus/event-publisher';
import {
  retrainingQueue,
  ServiceBusRetrainingQueue,
} from '../../shared/adapters/servicebus/retraining-queue';
import {
  type ModelEventInput,
  modelEventSchema,
  retrainingRequestSchema,
} from '../../shared/schemas/messages';
import { receiveAll } from '../support/servicebus';

function aRetrainingRequest(overrides: Partial<Parameters<ServiceBusRetrainingQueue['enqueue']>[0]> = {}) {
  return {
    model: 'churn',
    version: 3,
    reason: 'drift' as const,
    window: { id: '2026-W47', start: '2026-11-16T00:00:00Z', end: '2026-11-23T00:00:00Z' },
    requestedAt: '2026-11-23T06:00:00Z',
    evidence: { psi: 0.31 },
    ...overrides,
  };
}

function anEvent(type: ModelEventInput['type'], extra: Partial<ModelEventInput> = {}): ModelEventInput {
  const data = {
    'model.created': { actor: 'alice@example.com' },
    'model.updated': { actor: 'adam@example.com', revision: 1, changedPaths: ['policies.drift.distanceThreshold'] },
    'version.registered': { actor: 'alice@example.com', artifactSha256: 'ab' },
    'lifecycle.changed': { from: 'validating', to: 'pending_approval' },
    'champion.changed': { epoch: 1, from: null, to: 3, cause: 'promote', actor: 'bob@example.com' },
    'version.revalidated': { actor: 'system:revalidation', evidenceHash: 'cd', decision: 'pass', reason: 'new segment values region=east' },
    'flavour.detected': { runId: 'r1', newSegmentValues: { region: ['east'] } },
    'drift.evaluated': { windowId: 'w1', verdict: 'ok' },
    'drift.detected': { windowId: 'w1', columns: ['age'], scores: { age: 0.4 } },
    'run.completed': { runId: 'r1', kind: 'batch-inference', rows: 10 },
    'run.failed': { runId: 'r2', error: 'boom' },
    'actuals.late_matched': { actualsId: 'sales-0123456789abcdef', runId: 'r1', matched: 3, windows: ['20261123T0000Z'] },
    'retraining.requested': { reason: 'drift', windowId: 'w1' },
    'retraining.changed': { requestId: 'retrain:churn:20261123T0000Z', state: 'registered', trainer: 'builtin', resultVersion: 4 },
  }[type];
  return {
    eventId: randomUUID(),
    type,
    model: 'churn',
    version: 3,
    occurredAt: '2026-11-23T06:00:00Z',
    data,
    ...extra,
  } as ModelEventInput;
}

/** The product adapters against the broker started with the shipped config (the product's entities). */
describe('Service Bus adapters', () => {
  let broker: RunningServiceBusBroker;
  let client: ServiceBusClient;

  beforeAll(async () => {
    broker = await startServiceBusBroker();
    client = new ServiceBusClient(broker.connectionString);
  });

  afterAll(async () => {
    await client.close();
    await broker.stop();
    await closeServiceBus();
  });

  it('when a retraining request is enqueued, then one message carries the deduplication key, the properties and the validated body', async () => {
    const queue = new ServiceBusRetrainingQueue(client.createSender('retraining-requests'));
    const { messageId } = await queue.enqueue(aRetrainingRequest({ correlationId: 'corr-1' }));
    expect(messageId).toBe('retrain:churn:2026-W47');
    const receiver = client.createReceiver('retraining-requests');
    const [message, ...rest] = await receiveAll(receiver);
    expect(rest).toHaveLength(0);
    expect(message).toMatchObject({
      messageId: 'retrain:churn:2026-W47',
      subject: 'retraining.requested',
      contentType: 'application/json',
      correlationId: 'corr-1',
      applicationProperties: { model: 'churn', version: 3, reason: 'drift', window: '2026-W47' },
    });
    expect(retrainingRequestSchema.parse(message!.body)).toEqual(
      aRetrainingRequest({ correlationId: 'corr-1' }),
    );
    await receiver.completeMessage(message!);
    await receiver.close();
  });

  it('when a retraining request waits longer than RETRAINING_QUEUED_TIMEOUT, then it is dead-lettered as expired instead of starting a request presumed lost', async () => {
    const queue = new ServiceBusRetrainingQueue(client.createSender('retraining-requests'), 300);
    const window = { id: '2026-W50', start: '2026-12-07T00:00:00Z', end: '2026-12-14T00:00:00Z' };
    await queue.enqueue(aRetrainingRequest({ window }));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const receiver = client.createReceiver('retraining-requests', { receiveMode: 'receiveAndDelete' });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
    await receiver.close();
    const dead = client.createReceiver('retraining-requests', { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' });
    const [expired] = await receiveAll(dead);
    expect(expired).toMatchObject({ messageId: 'retrain:churn:2026-W50', deadLetterReason: 'TTLExpiredException', timeToLive: 300 });
    await dead.close();
  });

  it('when the same model and window is requested again, whatever the reason or version, then the queue holds the first request only', async () => {
    const queue = new ServiceBusRetrainingQueue(client.createSender('retraining-requests'));
    const window = { id: '2026-W48', start: '2026-11-23T00:00:00Z', end: '2026-11-30T00:00:00Z' };
    await queue.enqueue(aRetrainingRequest({ window }));
    await queue.enqueue(aRetrainingRequest({ window, reason: 'performance' }));
    await queue.enqueue(aRetrainingRequest({ window, version: 4 }));
    await queue.enqueue(aRetrainingRequest({ window: { ...window, id: '2026-W49' } }));
    const receiver = client.createReceiver('retraining-requests', { receiveMode: 'receiveAndDelete' });
    const got = await receiveAll(receiver);
    expect(got.map((m) => m.messageId).sort()).toEqual(['retrain:churn:2026-W48', 'retrain:churn:2026-W49']);
    expect(got.find((m) => m.messageId === 'retrain:churn:2026-W48')!.applicationProperties).toMatchObject({ reason: 'drift', version: 3 });
    await receiver.close();
  });

  it('when a request is invalid, then it is rejected as a validation error and nothing is sent', async () => {
    const queue = new ServiceBusRetrainingQueue(client.createSender('retraining-requests'));
    await expect(
      queue.enqueue(aRetrainingRequest({ model: 'Not A Model', version: 0 })),
    ).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { issues: [expect.objectContaining({ path: 'model' }), expect.objectContaining({ path: 'version' })] },
    });
    const peeker = client.createReceiver('retraining-requests');
    expect(await peeker.peekMessages(10)).toHaveLength(0);
    await peeker.close();
  });

  it('when events are published, then every subscriber gets them and the drift subscription only drift detections', async () => {
    const publisher = new ServiceBusEventPublisher(client.createSender('model-events'));
    const events = [anEvent('lifecycle.changed'), anEvent('drift.detected'), anEvent('run.completed')];
    await publisher.publishAll(events);
    await publisher.publish(anEvent('drift.evaluated'));
    const all = await receiveAll(
      client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' }),
    );
    expect(all.map((m) => m.subject)).toEqual([
      'lifecycle.changed',
      'drift.detected',
      'run.completed',
      'drift.evaluated',
    ]);
    expect(all.map((m) => m.messageId)).toEqual([...events.map((e) => e.eventId), expect.any(String)]);
    expect(all.every((m) => modelEventSchema.safeParse(m.body).success)).toBe(true);
    expect(all[0]!.applicationProperties).toEqual({ type: 'lifecycle.changed', model: 'churn', version: 3 });
    const drift = await receiveAll(
      client.createReceiver('model-events', 'drift-alerts', { receiveMode: 'receiveAndDelete' }),
    );
    expect(drift.map((m) => m.subject)).toEqual(['drift.detected']);
  });

  it('when one event of a batch is invalid, then none is published', async () => {
    const publisher = new ServiceBusEventPublisher(client.createSender('model-events'));
    const bad = {
      ...anEvent('run.completed'),
      data: { runId: 'r', kind: 'nope', rows: -1 },
    } as unknown as ModelEventInput;
    await expect(publisher.publishAll([anEvent('lifecycle.changed'), bad])).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    const peeker = client.createReceiver('model-events', 'all-events');
    expect(await peeker.peekMessages(10)).toHaveLength(0);
    await peeker.close();
  });

  it('when one event is too large for a Service Bus message, then publishing it is a validation error naming it, not a broker error retried in vain, and nothing is sent', async () => {
    const publisher = new ServiceBusEventPublisher(client.createSender('model-events'));
    const huge = anEvent('lifecycle.changed', { eventId: 'too-large-1', data: { from: 'validating', to: 'validation_failed', reason: 'x'.repeat(300 * 1024) } });
    await expect(publisher.publish(huge)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('too-large-1 (lifecycle.changed) is too large') });
    const peeker = client.createReceiver('model-events', 'all-events');
    expect(await peeker.peekMessages(10)).toHaveLength(0);
    await peeker.close();
    await publisher.publish(anEvent('lifecycle.changed'));
    expect(await receiveAll(client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' }))).toHaveLength(1);
  });

  it('when a fully qualified namespace is configured instead of a connection string, then the client targets it with a credential', async () => {
    const azure = createServiceBusClient({
      SERVICEBUS_CONNECTION_STRING: undefined,
      SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: 'mlops-prod.servicebus.windows.net',
    });
    expect(azure.fullyQualifiedNamespace).toBe('mlops-prod.servicebus.windows.net');
    await azure.close();
    expect(() =>
      createServiceBusClient({
        SERVICEBUS_CONNECTION_STRING: undefined,
        SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: undefined,
      }),
    ).toThrow(/SERVICEBUS_CONNECTION_STRING/);
  });

  it('when the app-wired queue is used twice, then it shares one lazily created client and sender and reaches the configured broker', async () => {
    // SERVICEBUS_CONNECTION_STRING comes from the integration global setup.
    expect(serviceBusClient()).toBe(serviceBusClient());
    expect(serviceBusSender('retraining-requests')).toBe(serviceBusSender('retraining-requests'));
    const windowId = `it-${randomUUID().slice(0, 8)}`;
    const { messageId } = await retrainingQueue().enqueue(
      aRetrainingRequest({
        window: { id: windowId, start: '2026-11-16T00:00:00Z', end: '2026-11-23T00:00:00Z' },
      }),
    );
    const peeker = serviceBusClient().createReceiver('retraining-requests');
    const peeked = await peeker.peekMessages(100);
    expect(peeked.map((m) => m.messageId)).toContain(messageId);
    await peeker.close();
  });
});
