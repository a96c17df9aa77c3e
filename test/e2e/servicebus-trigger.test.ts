import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';

import { type RunningHost, startHost } from '../../devhost/host/host';
import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { ServiceBusListener } from '../../devhost/triggers/servicebus';
import { defaultWorker, loadApp } from '../../devhost/worker';
import { brokerConfig, receiveAll, receiveAtLeast } from '../support/servicebus';

const appDir = path.join(__dirname, '../servicebus-app');
const worker = defaultWorker();
const lines: string[] = [];
worker.setLogSink((e) => lines.push(e.message));
loadApp(worker, appDir);
/* eslint-disable @typescript-eslint/no-require-imports */
const { seen } =
  require('../servicebus-app/functions/servicebus') as typeof import('../servicebus-app/functions/servicebus');
/* eslint-enable @typescript-eslint/no-require-imports */

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('devhost Service Bus triggers and outputs', () => {
  let broker: RunningServiceBusBroker;
  let host: RunningHost;
  let listener: ServiceBusListener;
  let client: ServiceBusClient;

  beforeAll(async () => {
    broker = await startServiceBusBroker({
      config: brokerConfig(
        {
          requests: {},
          results: {},
          poison: { MaxDeliveryCount: 3 },
          bulk: {},
        },
        [
          {
            Name: 'events',
            Subscriptions: [
              { Name: 'all' },
              {
                Name: 'alerts',
                Rules: [
                  {
                    Name: 'alerts',
                    Properties: { FilterType: 'Correlation', CorrelationFilter: { Label: 'alert' } },
                  },
                ],
              },
            ],
          },
        ],
      ),
    });
    // The app's setting holds a development-emulator string for another port: devhost points it at its broker.
    const env = {
      ...process.env,
      ServiceBusConnection:
        'Endpoint=sb://127.0.0.1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true',
    };
    listener = new ServiceBusListener({
      brokerConnectionString: broker.connectionString,
      env,
      log: (l) => lines.push(l),
    });
    host = await startHost({
      worker,
      appDir,
      port: 0,
      keys: { masterKey: 'master-key' },
      listeners: [listener],
      log: (l) => lines.push(l),
    });
    client = new ServiceBusClient(broker.connectionString);
  });

  afterAll(async () => {
    await host.stop();
    await client.close();
    await broker.stop();
  });

  it('when a message lands on a triggered queue, then the function runs with the body and metadata, its outputs are sent, and the message is completed', async () => {
    await client.createSender('requests').sendMessages({
      body: { id: 'r1', x: 21 },
      messageId: 'req-1',
      correlationId: 'corr-1',
      subject: 'score',
      applicationProperties: { model: 'churn' },
    });
    const call = await until('the queue trigger', () =>
      seen.scored.find((s) => (s.body as { id: string }).id === 'r1'),
    );
    expect(call.metadata).toMatchObject({
      messageId: 'req-1',
      deliveryCount: 1,
      correlationId: 'corr-1',
      subject: 'score',
      label: 'score',
      applicationProperties: { model: 'churn' },
      sequenceNumber: expect.any(Number),
      lockToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(new Date(call.metadata.enqueuedTimeUtc as string).getTime()).toBeLessThanOrEqual(Date.now());

    const [result] = await receiveAtLeast(
      client.createReceiver('results', { receiveMode: 'receiveAndDelete' }),
      1,
    );
    expect(result!.body).toEqual({ id: 'r1', score: 42 });
    const events = await receiveAtLeast(
      client.createReceiver('events', 'all', { receiveMode: 'receiveAndDelete' }),
      2,
    );
    expect(events.map((m) => m.body)).toEqual([
      { kind: 'scored', id: 'r1' },
      { kind: 'audit', id: 'r1' },
    ]);
    const peeker = client.createReceiver('requests');
    expect(
      await until(
        'the trigger message to be completed',
        async () => (await peeker.peekMessages(10)).length === 0 || undefined,
      ),
    ).toBe(true);
    await peeker.close();
  });

  it('when the function always fails, then the message is delivered max-delivery-count times and then dead-lettered', async () => {
    await client.createSender('poison').sendMessages({ body: 'bad', messageId: 'poison-1' });
    const dlq = client.createReceiver('poison', { subQueueType: 'deadLetter' });
    const [dead] = await receiveAtLeast(dlq, 1, 15_000);
    expect(dead).toMatchObject({ messageId: 'poison-1', deadLetterReason: 'MaxDeliveryCountExceeded' });
    expect(seen.poisonAttempts).toEqual([1, 2, 3]);
    await dlq.completeMessage(dead!);
    await dlq.close();
  });

  it('when a message is published to the topic, then only the filtered subscription trigger runs for matching subjects', async () => {
    await client.createSender('events').sendMessages([
      { body: { n: 1 }, subject: 'alert' },
      { body: { n: 2 }, subject: 'info' },
    ]);
    await until('the topic trigger', () => seen.alerts.length >= 1 || undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.alerts).toEqual([{ body: { n: 1 }, subject: 'alert' }]);
    await receiveAll(client.createReceiver('events', 'all', { receiveMode: 'receiveAndDelete' }));
  });

  it('when a batch trigger has messages waiting, then it gets them as an array', async () => {
    await client.createSender('bulk').sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    await until('the batch trigger', () => seen.batches.flat().length >= 3 || undefined);
    expect(seen.batches.flat()).toEqual([1, 2, 3]);
    const peeker = client.createReceiver('bulk');
    await until(
      'the batch to be completed',
      async () => (await peeker.peekMessages(10)).length === 0 || undefined,
    );
    await peeker.close();
  });

  it('when an HTTP function sets a Service Bus output, then the message is sent and triggers the queue function', async () => {
    const response = await fetch(`${host.origin}/api/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'from-http', x: 5 }),
    });
    expect(response.status).toBe(202);
    await until('the chained trigger', () =>
      seen.scored.find((s) => (s.body as { id: string }).id === 'from-http'),
    );
    const [result] = await receiveAtLeast(
      client.createReceiver('results', { receiveMode: 'receiveAndDelete' }),
      1,
    );
    expect(result!.body).toEqual({ id: 'from-http', score: 10 });
  });

  it('when POST /admin/functions/{name} runs a queue function, then the input is the message body and its outputs are sent', async () => {
    const response = await fetch(`${host.origin}/admin/functions/scoreRequest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': 'master-key' },
      body: JSON.stringify({ input: JSON.stringify({ id: 'from-admin', x: 4 }) }),
    });
    expect(response.status).toBe(202);
    const call = await until('the admin run', () =>
      seen.scored.find((s) => (s.body as { id: string }).id === 'from-admin'),
    );
    expect(call.metadata).toMatchObject({ messageId: expect.stringMatching(/^[0-9a-f-]{36}$/), deliveryCount: 1 });
    const [result] = await receiveAtLeast(
      client.createReceiver('results', { receiveMode: 'receiveAndDelete' }),
      1,
    );
    expect(result!.body).toEqual({ id: 'from-admin', score: 8 });

    await fetch(`${host.origin}/admin/functions/scoreBatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': 'master-key' },
      body: JSON.stringify({ input: 'plain text' }),
    });
    await until('the admin batch', () => seen.batches.some((b) => b[0] === 'plain text') || undefined);
    expect(seen.batches.find((b) => b[0] === 'plain text')).toEqual(['plain text']);
  });
});
