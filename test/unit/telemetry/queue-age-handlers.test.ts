/**
 * The Service Bus triggered functions record `mlops.queue.age` from the trigger metadata devhost's
 * listener builds as the host does (`EnqueuedTimeUtc`, camel-cased by @azure/functions), invoked
 * through devhost's worker pipeline.
 */
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';

import { messageMetadata } from '../../../devhost/triggers/servicebus-metadata';
import { defaultWorker } from '../../../devhost/worker';
import { captureMetricsInFile } from '../../support/metric-capture';

const metricsCapture = captureMetricsInFile();
const saved = { ...process.env };

beforeAll(() => {
  Object.assign(process.env, { STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', EVENTS_TOPIC: 'model-events', RETRAINING_QUEUE: 'retraining-requests' });
  // Registers the function with devhost's worker (jest maps @azure/functions-core to it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../../functions/servicebus/champion-changes');
});
afterAll(() => {
  process.env = saved;
});

it('when resumeWaitingRuns handles a message enqueued 5 s ago, then its age is recorded for the subscription', async () => {
  const enqueued = new Date(Date.now() - 5000);
  const message = { body: {}, messageId: 'm1', deliveryCount: 0, enqueuedTimeUtc: enqueued } as unknown as ServiceBusReceivedMessage;
  const event = { eventId: 'e1', model: 'churn', version: 2, occurredAt: enqueued.toISOString(), type: 'lifecycle.changed', data: { from: 'approved', to: 'production' } };
  // Not champion.changed: the handler returns before it needs the durable client or the registry.
  await defaultWorker().invoke('resumeWaitingRuns', { triggerValue: event, triggerMetadata: messageMetadata(message), extraInputs: { starter: null }, quiet: true });
  const { resourceMetrics } = await metricsCapture.reader.collect();
  const points = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.filter((m) => m.descriptor.name === 'mlops.queue.age').flatMap((m) => m.dataPoints as Array<DataPoint<Histogram>>));
  expect(points.map((p) => p.attributes)).toEqual([{ entity: 'model-events/champion-changes' }]);
  const age = points[0]!.value;
  expect(age.count).toBe(1);
  expect(age.sum).toBeGreaterThanOrEqual(5);
  expect(age.sum).toBeLessThan(60);
});
