/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { randomUUID } from 'node:crypto';

import { ServiceBusClient } from '@azure/service-bus';

import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { ServiceBusEventPublisher } from '../../shared/adapters/servicebus/event-publisher';
import { ServiceBusRetrainingQueue } from '../../shared/adapters/servicebus/retraining-queue';
import { modelEventSchema, retrainingRequestSchema } from '../../shared/schemas/messages';
import { requestRetraining } from '../../shared/usecases/request-retraining';
import { monitorWorld, shifted } from '../support/monitoring-kit';
import { receiveAll } from '../support/servicebus';

/** The drift monitor with the product's Service Bus adapters on the local broker (shipped entities) and the Cosmos run store. */
describe('drift monitor on Service Bus and Cosmos DB', () => {
  let broker: RunningServiceBusBroker;
  let client: ServiceBusClient;

  beforeAll(async () => {
    broker = await startServiceBusBroker();
    client = new ServiceBusClient(broker.connectionString);
  });

  afterAll(async () => {
    await client.close();
    await broker.stop();
  });

  it('when three windows breach and the request is sent again, then the queue receives exactly one message with the request id and body', async () => {
    const model = `drift-it-${randomUUID().slice(0, 8)}`;
    const runs = cosmosRunStore();
    const queue = new ServiceBusRetrainingQueue(client.createSender('retraining-requests'));
    const events = new ServiceBusEventPublisher(client.createSender('model-events'));
    const world = await monitorWorld({ drift: { consecutiveWindows: 2, cooldown: 'PT0S' } }, { model, runs, queue, events });
    for (const day of ['20260610T0000Z', '20260611T0000Z', '20260612T0000Z']) await world.scored(day, shifted(Number(day.slice(6, 8))));

    const report = await world.run();
    const requestId = `retrain:${model}:20260611T0000Z`;
    expect(report.failures).toEqual([]);
    expect(report.models[0]!.requests).toEqual([requestId]);
    // A monitor that crashed after sending and runs the window again sends the same request once more.
    const record = (await runs.retraining.get(model, requestId))!.value;
    const again = await requestRetraining(
      world.deps,
      { model, version: 1, reason: 'drift', window: { id: '20260611T0000Z', start: '2026-06-11T00:00:00.000Z', end: '2026-06-12T00:00:00.000Z' }, policy: world.definition.policies.retraining, records: [record], evidence: {}, now: world.clock.now() },
    );
    expect(again).toMatchObject({ sent: true, outcome: { requestId } });

    const receiver = client.createReceiver('retraining-requests', { receiveMode: 'receiveAndDelete' });
    const messages = await receiveAll(receiver);
    await receiver.close();
    expect(messages.map((m) => m.messageId)).toEqual([requestId]);
    const [message] = messages;
    expect(message).toMatchObject({
      subject: 'retraining.requested',
      contentType: 'application/json',
      correlationId: requestId,
      applicationProperties: { model, version: 1, reason: 'drift', window: '20260611T0000Z' },
    });
    expect(retrainingRequestSchema.parse(message!.body)).toMatchObject({
      model,
      version: 1,
      reason: 'drift',
      window: { id: '20260611T0000Z', start: '2026-06-11T00:00:00.000Z', end: '2026-06-12T00:00:00.000Z' },
      requestedAt: '2026-06-20T12:00:00.000Z',
      evidence: { drift: { verdict: 'breach', consecutive: 2 } },
    });
    expect((await runs.retraining.list(model)).map((r) => [r.requestId, r.state])).toEqual([[requestId, 'queued']]);
    expect((await runs.windows.get(model, '20260612T0000Z'))!.value.retraining).toEqual({ reason: 'drift', requestId: null, blockedBy: `request ${requestId} is still open (queued; last progress 2026-06-20T12:00:00.000Z, presumed lost without progress after 2026-06-21T12:00:00.000Z)` });

    const published = (await receiveAll(client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' })))
      .map((m) => modelEventSchema.parse(m.body))
      .filter((e) => e.model === model);
    expect(published.map((e) => `${e.type} ${'windowId' in e.data ? e.data.windowId : ''}`).sort()).toEqual([
      'drift.detected 20260610T0000Z',
      'drift.detected 20260611T0000Z',
      'drift.detected 20260612T0000Z',
      'drift.evaluated 20260610T0000Z',
      'drift.evaluated 20260611T0000Z',
      'drift.evaluated 20260612T0000Z',
      'retraining.requested 20260611T0000Z',
    ]);
  });
});
