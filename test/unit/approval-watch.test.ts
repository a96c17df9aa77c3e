/**
 * The approval watch timer (functions/timer/approval-watch.ts) invoked through devhost's worker as
 * the host invokes it, with the in-memory registry behind the composition root and the real
 * Durable client talking to a stand-in of the extension's status API: what it logs per waiting
 * version (the deadline, where it came from, the time left), what it records, and how it fails when
 * a lifecycle's status or a model's versions cannot be read.
 */
import type { DataPoint } from '@opentelemetry/sdk-metrics';

import { timerTriggerValue } from '../../devhost/host/timers';
import { defaultWorker } from '../../devhost/worker';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { aModelDefinition, aModelVersionInput, anActor, sha } from '../support/builders';
import { type DurableStatusStandIn, startDurableStatusStandIn, waitingLifecycle } from '../support/durable-status-stand-in';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { captureMetricsInFile } from '../support/metric-capture';

const mockRegistry = new InMemoryModelRegistry();
jest.mock('../../shared/composition', () => ({ registryStore: () => mockRegistry }));
import '../../functions/timer/approval-watch';

const worker = defaultWorker();
const metricsCapture = captureMetricsInFile();
const lines: Array<{ level: string; message: string }> = [];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The handler reads the wall clock: the versions began to wait relative to it. */
const NOW = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const carlos = anActor({ id: 'carlos@example.com', roles: ['MLOps.Contributor'] });
const system = anActor({ id: 'system:modelLifecycle', kind: 'system', roles: [] });

let standIn: DurableStatusStandIn;

beforeAll(async () => {
  worker.setLogSink((e) => lines.push({ level: e.level, message: e.message }));
  standIn = await startDurableStatusStandIn();
  worker.setInputBindingProvider('durableClient', () => standIn.payload);
  let clock = new Date(NOW - 10 * DAY);
  const useCases = new RegistryUseCases({ registry: mockRegistry, clock: { now: () => clock } });
  await useCases.createModel(aModelDefinition({ name: 'churn', policies: { approval: { timeout: 'P3D' } } }), carlos);
  for (const since of [NOW - 2 * DAY, NOW - DAY]) {
    clock = new Date(since);
    const { version } = await useCases.registerVersion('churn', aModelVersionInput(), carlos);
    await useCases.applyCommand('churn', version, { type: 'start_validation' }, system);
    await useCases.applyCommand('churn', version, { type: 'pass_validation', evidenceHash: sha(`churn-${version}`) }, system);
  }
  // v1's lifecycle read P3D as it started and expires it a day from now; the policy says P30D since.
  clock = new Date(NOW - HOUR);
  await useCases.updateModel('churn', { policies: { approval: { timeout: 'P30D' } } }, anActor({ id: 'adam@example.com', roles: ['MLOps.Admin'] }));
  standIn.statuses.set('lifecycle:churn:1', waitingLifecycle(iso(NOW + DAY)));
  // v2's lifecycle is gone (404): reconciliation starts it again, with the policy's deadline.
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  lines.splice(0);
  standIn.asked.splice(0);
  standIn.down.clear();
});

const watch = () => worker.invoke('approvalWatch', { triggerValue: timerTriggerValue(null, false), quiet: true });
const logged = (level: string) => lines.filter((l) => l.level === level && l.message.startsWith('approvalWatch:')).map((l) => l.message);

async function timeLeft(): Promise<Array<[Record<string, unknown>, number]>> {
  const { resourceMetrics } = await metricsCapture.reader.collect();
  const points = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.filter((m) => m.descriptor.name === 'mlops.approvals.time_left').flatMap((m) => m.dataPoints as Array<DataPoint<number>>));
  return points.map((p) => [p.attributes, p.value]);
}

describe('the approval watch', () => {
  it("when versions wait, then it logs each one's deadline with where it came from (its running lifecycle's, else the policy's) and the time left, and records them", async () => {
    await watch();

    expect(logged('information')).toEqual([
      `approvalWatch: churn v1 pending since ${iso(NOW - 2 * DAY)}, expires ${iso(NOW + DAY)} (its lifecycle's deadline, 24.0 h left)`,
      `approvalWatch: churn v2 pending since ${iso(NOW - DAY)}, expires ${iso(NOW + 29 * DAY)} (the policy's deadline, 696.0 h left)`,
    ]);
    expect(logged('warning')).toEqual([]);
    expect(await timeLeft()).toEqual([
      [{ model: 'churn', version: '1', deadline: iso(NOW + DAY), deadlineSource: 'lifecycle' }, expect.closeTo(DAY / 1000, -1)],
      [{ model: 'churn', version: '2', deadline: iso(NOW + 29 * DAY), deadlineSource: 'policy' }, expect.closeTo((29 * DAY) / 1000, -1)],
    ]);
  });

  it('when a lifecycle reports a deadline that has passed, then the version is logged as overdue', async () => {
    standIn.statuses.set('lifecycle:churn:1', waitingLifecycle(iso(NOW - 12 * HOUR)));
    try {
      await watch();
    } finally {
      standIn.statuses.set('lifecycle:churn:1', waitingLifecycle(iso(NOW + DAY)));
    }
    expect(logged('information')[0]).toBe(`approvalWatch: churn v1 pending since ${iso(NOW - 2 * DAY)}, expires ${iso(NOW - 12 * HOUR)} (its lifecycle's deadline, overdue by 12.0 h)`);
  });

  it("when the Durable host fails a lifecycle's status, then every version is still logged and recorded (that one by the policy), a warning names it, and the invocation fails naming it after recording", async () => {
    standIn.down.add('lifecycle:churn:1');

    await expect(watch()).rejects.toThrow(/^approvalWatch: lifecycle statuses not read: churn v1: .*503/);

    expect(logged('information')).toEqual([
      `approvalWatch: churn v1 pending since ${iso(NOW - 2 * DAY)}, expires ${iso(NOW + 28 * DAY)} (the policy's deadline, 672.0 h left)`,
      `approvalWatch: churn v2 pending since ${iso(NOW - DAY)}, expires ${iso(NOW + 29 * DAY)} (the policy's deadline, 696.0 h left)`,
    ]);
    expect(logged('warning')).toEqual([
      expect.stringMatching(/^approvalWatch: churn v1: .*503.*: its lifecycle's status could not be read, so its deadline is the policy's, which its lifecycle does not keep if the model's timeout changed since it started$/),
    ]);
    expect((await timeLeft()).map(([attributes]) => [attributes.version, attributes.deadlineSource])).toEqual([
      ['1', 'policy'],
      ['2', 'policy'],
    ]);
  });

  it("when a model's waiting versions cannot be read (an outage), then the invocation fails naming the model, and nothing is recorded for it", async () => {
    const list = mockRegistry.listReadableVersionsInState.bind(mockRegistry);
    mockRegistry.listReadableVersionsInState = () => Promise.reject(new Error('Service Unavailable'));
    try {
      await expect(watch()).rejects.toThrow('approvalWatch: versions not read: churn: Service Unavailable');
    } finally {
      mockRegistry.listReadableVersionsInState = list;
    }
    expect(logged('information')).toEqual([]);
    expect(await timeLeft()).toEqual([]);
    expect(standIn.asked).toEqual([]);
  });
});
