/**
 * Ledger entries (and a run's flavours) published as events through the real adapters: the registry on the local Cosmos
 * server, the events on the local broker's `model-events` topic (the shipped entities, 256 KB
 * messages and duplicate detection as on Azure).
 */
import { randomBytes } from 'node:crypto';

import { ServiceBusClient } from '@azure/service-bus';

import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { CosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { ServiceBusEventPublisher } from '../../shared/adapters/servicebus/event-publisher';
import { systemClock } from '../../shared/adapters/system-clock';
import { modelEventSchema } from '../../shared/schemas/messages';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { flavourEventOf } from '../../shared/usecases/run-events';
import { aModelDefinition, aModelVersionInput, anActor, anInferenceRun, sha, theSystem } from '../support/builders';
import { receiveAll } from '../support/servicebus';

jest.setTimeout(60_000);

const alice = anActor({ id: 'alice@example.com' });

let broker: RunningServiceBusBroker;
let client: ServiceBusClient;
let useCases: RegistryUseCases;

beforeAll(async () => {
  broker = await startServiceBusBroker();
  client = new ServiceBusClient(broker.connectionString);
  useCases = new RegistryUseCases({
    registry: new CosmosModelRegistry(),
    clock: systemClock,
    events: new ServiceBusEventPublisher(client.createSender('model-events')),
  });
});

afterAll(async () => {
  await client.close();
  await broker.stop();
});

/** A model of its own (`length` characters), with version 1 registered. */
async function aModelWithVersion(length = 12): Promise<string> {
  const model = `m${randomBytes(32).toString('hex')}`.slice(0, length);
  await useCases.createModel(aModelDefinition({ name: model }), alice);
  await useCases.registerVersion(model, aModelVersionInput(), alice);
  return model;
}

async function revalidatedEvents(model: string) {
  const received = await receiveAll(client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' }));
  return received.filter((m) => m.subject === 'version.revalidated' && (m.body as { model?: string }).model === model);
}

describe('ledger events on the broker', () => {
  it('when a revalidation of a model with a 63-character name is recorded twice, then its ledger entry is written and its event arrives once', async () => {
    const model = await aModelWithVersion(63);
    const outcome = { evidenceHash: sha('flavour evidence'), decision: 'pass' as const, reason: 'new segment value(s) region=west', at: new Date().toISOString() };
    await useCases.recordRevalidation(model, 1, outcome, theSystem());
    await useCases.recordRevalidation(model, 1, outcome, theSystem());

    const ledger = await useCases.auditLog(model, { kind: 'version_revalidated' });
    expect(ledger.map((e) => e.id)).toEqual([`${model}:v1:revalidated:${outcome.evidenceHash}`]);
    const events = await revalidatedEvents(model);
    expect(events).toHaveLength(1);
    expect(modelEventSchema.parse(events[0]!.body)).toMatchObject({ type: 'version.revalidated', model, version: 1, data: { evidenceHash: outcome.evidenceHash } });
  });

  it('when a revalidation names thousands of new segment values, then its ledger entry is written and its event arrives with the reason cut, not refused by the broker for good', async () => {
    const model = await aModelWithVersion();
    const stores = Array.from({ length: 20_000 }, (_, i) => `store_id=store-${String(i).padStart(6, '0')}`);
    const reason = `new segment value(s) ${stores.join(', ')} labelled by actuals big-file-0123456789abcdef`;
    expect(reason.length).toBeGreaterThan(256 * 1024);
    const outcome = { evidenceHash: sha('many stores'), decision: 'fail' as const, reason, at: new Date().toISOString() };

    await useCases.recordRevalidation(model, 1, outcome, theSystem());

    const [entry] = await useCases.auditLog(model, { kind: 'version_revalidated' });
    expect(entry).toMatchObject({ evidenceHash: outcome.evidenceHash, decision: 'fail', reason: expect.stringMatching(/^new segment value\(s\) store_id=store-000000, .*see the evidence for all\)$/) });
    const events = await revalidatedEvents(model);
    expect(events).toHaveLength(1);
    expect(events[0]!.body).toMatchObject({ data: { reason: entry!.kind === 'version_revalidated' ? entry!.reason : '' } });
  });

  it('when a run saw tens of thousands of new segment values, then its flavour.detected event is accepted by the broker and arrives', async () => {
    const stores = Array.from({ length: 30_000 }, (_, i) => `store-${String(i).padStart(6, '0')}`);
    const run = { ...anInferenceRun('flavours', `r-${randomBytes(4).toString('hex')}`, { state: 'completed' }), flavours: { newSegmentValues: { store_id: stores }, unseenCategories: {}, outOfRange: {} } };
    await new ServiceBusEventPublisher(client.createSender('model-events')).publish(flavourEventOf(run));
    const received = await receiveAll(client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' }));
    const event = received.find((m) => m.messageId === `run:${run.runId}:flavours`);
    expect(event?.body).toMatchObject({ type: 'flavour.detected', data: { runId: run.runId, omittedValues: { store_id: expect.any(Number) } } });
  });
});
