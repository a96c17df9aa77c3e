import { ServiceBusClient } from '@azure/service-bus';

import { parseCommandLine } from '../../cli/command';
import { deadlettersCommand } from '../../cli/deadletters';
import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { receiveAtLeast } from '../support/servicebus';

/** Runs `mlops deadletters <args>` as the command line would, with its output lines. */
async function deadletters(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await deadlettersCommand.spec.run(parseCommandLine(deadlettersCommand.spec, args), (l) => lines.push(l));
  return { code, lines };
}

/** The product's entities (the shipped broker config), with the command pointed at the broker. */
describe('mlops deadletters (against the local broker)', () => {
  let broker: RunningServiceBusBroker;
  let client: ServiceBusClient;
  const saved = process.env.SERVICEBUS_CONNECTION_STRING;

  beforeAll(async () => {
    broker = await startServiceBusBroker();
    process.env.SERVICEBUS_CONNECTION_STRING = broker.connectionString;
    client = new ServiceBusClient(broker.connectionString);
  });
  afterAll(async () => {
    process.env.SERVICEBUS_CONNECTION_STRING = saved;
    await client.close();
    await broker.stop();
  });

  /** Sends each message to `entity` and dead-letters it as the host does after its last delivery. */
  async function deadLettered(queue: string, bodies: unknown[], subscription?: string) {
    await client.createSender(queue).sendMessages(bodies.map((body, i) => ({ body, messageId: `m-${i}-${Date.now()}`, subject: 'retraining.requested', applicationProperties: { model: 'shop' } })));
    const receiver = subscription ? client.createReceiver(queue, subscription) : client.createReceiver(queue);
    const received = await receiveAtLeast(receiver, bodies.length);
    for (const m of received) await receiver.deadLetterMessage(m, { deadLetterReason: 'MaxDeliveryCountExceeded', deadLetterErrorDescription: 'failed 5 times' });
    await receiver.close();
    return received;
  }

  it('when a message was dead-lettered, then the listing names it and a replay sends a copy under a new id and empties the dead-letter queue', async () => {
    const [dead] = await deadLettered('retraining-requests', [{ model: 'shop', version: 1 }]);
    const n = String(dead!.sequenceNumber);
    const id = String(dead!.messageId);

    const listed = await deadletters(['retraining-requests']);
    expect(listed.code).toBe(0);
    expect(listed.lines).toEqual([
      expect.stringMatching(new RegExp(`^#${n}  id ${id}  .*MaxDeliveryCountExceeded: failed 5 times  subject retraining.requested  body \\{"model":"shop","version":1\\}$`)),
      '1 dead letter(s) in retraining-requests',
    ]);

    const replayed = await deadletters(['retraining-requests', '--replay', n]);
    expect(replayed.lines).toEqual([`replayed #${n} (${id}) to retraining-requests as replay:${n}:${id}`]);
    const queue = client.createReceiver('retraining-requests');
    const [copy] = await receiveAtLeast(queue, 1);
    await queue.completeMessage(copy!);
    await queue.close();
    expect(copy).toMatchObject({ messageId: `replay:${n}:${id}`, body: { model: 'shop', version: 1 }, subject: 'retraining.requested', applicationProperties: { model: 'shop' } });
    expect((await deadletters(['retraining-requests'])).lines).toEqual(['0 dead letter(s) in retraining-requests']);
  });

  it('when a sequence number names no dead letter, then nothing is replayed and the error names it', async () => {
    const [dead] = await deadLettered('retraining-requests', [{ model: 'shop', version: 2 }]);

    await expect(deadletters(['retraining-requests', '--replay', '999999'])).rejects.toThrow('no dead letter #999999 in retraining-requests');
    expect((await deadletters(['retraining-requests'])).lines).toHaveLength(2);
    await deadletters(['retraining-requests', '--replay', String(dead!.sequenceNumber)]);
    const queue = client.createReceiver('retraining-requests', { receiveMode: 'receiveAndDelete' });
    await receiveAtLeast(queue, 1);
    await queue.close();
  });

  it('when the chosen dead letter sits behind more than one receive batch of others, then it alone is replayed and the others stay', async () => {
    const dead = await deadLettered('retraining-requests', Array.from({ length: 130 }, (_, i) => ({ i })));
    const last = String(dead.at(-1)!.sequenceNumber);

    const replayed = await deadletters(['retraining-requests', '--replay', last]);
    expect(replayed.lines).toEqual([expect.stringMatching(new RegExp(`^replayed #${last} `))]);
    const listed = await deadletters(['retraining-requests']);
    expect(listed.lines.at(-1)).toBe('129 dead letter(s) in retraining-requests');
    const queue = client.createReceiver('retraining-requests', { receiveMode: 'receiveAndDelete' });
    expect((await receiveAtLeast(queue, 1)).map((m) => m.body as unknown)).toEqual([{ i: 129 }]);
    await queue.close();
    await deadletters(['retraining-requests', '--replay-all']);
    const drain = client.createReceiver('retraining-requests', { receiveMode: 'receiveAndDelete' });
    expect(await receiveAtLeast(drain, 129)).toHaveLength(129);
    await drain.close();
  });

  it('when a subscription holds dead letters, then --replay-all sends each to the topic once and leaves the dead-letter queue empty', async () => {
    await deadLettered('model-events', [{ n: 1 }, { n: 2 }], 'all-events');

    const replayed = await deadletters(['model-events/Subscriptions/all-events', '--replay-all']);
    expect(replayed.lines).toHaveLength(2);
    const subscription = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
    const copies = await receiveAtLeast(subscription, 2);
    await subscription.close();
    expect(copies.map((m) => m.body as unknown)).toEqual([{ n: 1 }, { n: 2 }]);
    for (const m of copies) expect(String(m.messageId)).toMatch(/^replay:\d+:m-\d-\d+$/);
    expect((await deadletters(['model-events/Subscriptions/all-events'])).lines).toEqual(['0 dead letter(s) in model-events/Subscriptions/all-events']);
  });
});
