/**
 * The `scheduleInference` timer over a registry holding odd state: models whose stored schedule is
 * not a six-field NCRONTAB expression (stored before schedules were checked as they are now),
 * beside a model whose schedule is due. Invoked through devhost's worker on the Cosmos registry
 * (a database of its own) and Blob Storage, with a durable client whose management API is a
 * stand-in recording the orchestrations started.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { durableClientPayload } from '../../devhost/durable/client-payload';
import { timerTriggerValue } from '../../devhost/host/timers';
import { defaultWorker } from '../../devhost/worker';
import { blobDataLake } from '../../shared/adapters/blob/data-lake';
import { cosmosContainers } from '../../shared/adapters/cosmos/client';
import { cosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { aModelVersionInput, anActor } from '../support/builders';
import { aRegionalModel } from '../support/model-kit';
import { RecordingPublisher } from '../support/recording-publisher';

const worker = defaultWorker();
const lines: { level: string; message: string }[] = [];
worker.setLogSink((e) => lines.push({ level: String(e.level), message: e.message }));

const started: string[] = [];
let server: Server;
const saved = { ...process.env };
const suffix = randomUUID().slice(0, 8);

beforeAll(async () => {
  // A database and a lake container of its own: listing every model must see only these.
  process.env.COSMOS_DATABASE = `sched-${suffix}`;
  process.env.DATA_CONTAINER = `sched-${suffix}`;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      const create = /\/orchestrators\/([^/?]+)\/([^/?]+)/.exec(url);
      if (req.method === 'POST' && create) {
        const id = decodeURIComponent(create[2]!);
        started.push(`${create[1]} ${id}`);
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
      } else res.writeHead(404).end(); // no instance exists yet
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.WEBSITE_HOSTNAME = origin.slice('http://'.length);
  const payload = durableClientPayload({ origin, taskHubName: 'ScheduleTest', systemKey: 'system-key' });
  worker.setInputBindingProvider('durableClient', () => payload);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../functions/timer/scheduled-inference');
});

afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});

/** Overwrites the stored model document's schedule, as a definition stored before today's checks holds it. */
async function storeOldSchedule(model: string, schedule: string) {
  const { models } = await cosmosContainers();
  const { resource } = await models.item('model', model).read<{ definition: Record<string, unknown> }>();
  await models.items.upsert({ ...resource!, definition: { ...resource!.definition, schedule } });
}

const carlos = anActor({ id: 'carlos', roles: ['MLOps.Contributor'] });
const registry = () => new RegistryUseCases({ registry: cosmosModelRegistry(), clock: { now: () => new Date() }, events: new RecordingPublisher() });

describe('models whose stored schedule is not a six-field NCRONTAB expression', () => {
  beforeAll(async () => {
    for (const name of ['a-five-fields', 'b-nonsense', 'c-due']) await registry().createModel({ ...aRegionalModel(name), schedule: '* * * * * *' }, carlos);
    await storeOldSchedule('a-five-fields', '0 2 * * *');
    await storeOldSchedule('b-nonsense', 'every day at 2 am please');
  });

  it('when the registry is read, then they still read and list with the schedule as stored, and take new versions; a new model with such a schedule is still refused', async () => {
    expect((await cosmosModelRegistry().listModels()).models.map((m) => [m.modelName, m.definition.schedule])).toEqual([
      ['a-five-fields', '0 2 * * *'],
      ['b-nonsense', 'every day at 2 am please'],
      ['c-due', '* * * * * *'],
    ]);
    expect((await registry().getModel('b-nonsense')).definition.schedule).toBe('every day at 2 am please');
    expect((await registry().registerVersion('a-five-fields', aModelVersionInput(), carlos)).version).toBe(1);
    await expect(registry().createModel({ ...aRegionalModel('d-new'), schedule: '0 2 * * *' }, carlos)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });

  it('when scheduled inference checks them before a model that is due, then the due model still gets its run and each unreadable schedule is logged as a warning', async () => {
    await blobDataLake().write('drops/c-due/scheduled/batch-1.csv', Buffer.from('id,x1,x2,region\n1,1,2,north\n'));
    // The drop belongs to an occurrence after it was written (whole seconds).
    await new Promise((resolve) => setTimeout(resolve, 1100));

    await worker.invoke('scheduleInference', { triggerValue: timerTriggerValue(null, false), quiet: true });

    expect(started).toEqual([expect.stringMatching(/^batchInference batch:c-due:sched-\d{8}T\d{6}Z$/)]);
    const warnings = lines.filter((l) => /warn/i.test(l.level)).map((l) => l.message);
    expect(warnings).toEqual([
      "scheduleInference: model 'a-five-fields' is not scheduled: its schedule '0 2 * * *' is not valid: a schedule has six fields: second minute hour day month day-of-week",
      expect.stringMatching(/^scheduleInference: model 'b-nonsense' is not scheduled: its schedule 'every day at 2 am please' is not a valid NCRONTAB expression: /),
    ]);
  });

  it('when a model document no longer reads at all, then the others are still checked and the invocation fails naming it', async () => {
    const { models } = await cosmosContainers();
    const { resource } = await models.item('model', 'b-nonsense').read<{ definition: Record<string, unknown> }>();
    await models.items.upsert({ ...resource!, definition: { ...resource!.definition, task: 'ranking' } });
    const logged = lines.length;
    try {
      await expect(worker.invoke('scheduleInference', { triggerValue: timerTriggerValue(null, false), quiet: true })).rejects.toThrow(
        /^scheduleInference: b-nonsense: its stored model document is invalid: /,
      );
      // The readable models were still checked: a-five-fields' schedule is warned about again.
      expect(lines.slice(logged).map((l) => l.message)).toContainEqual(expect.stringMatching(/^scheduleInference: model 'a-five-fields' is not scheduled/));
    } finally {
      await models.items.upsert(resource!);
    }
  });
});
