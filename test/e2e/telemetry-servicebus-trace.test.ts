/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * One trace across a Service Bus queue: devhost runs in this process with the product app and
 * the test captures the app's spans in memory (test/support/traced-devhost.ts). The drift monitor,
 * run through the host's admin API, finds the champion drifting and sends a retraining request;
 * its producer span's traceparent rides in the message's application properties, devhost makes it
 * the `retraining` trigger's trace context (as the Service Bus extension does), and the built-in
 * trainer's new version starts its modelLifecycle under that span, so the monitor run, the
 * request, its handling, the new version's lifecycle and its activities share one trace id.
 */
import { SpanKind } from '@opentelemetry/api';

import { LIFECYCLE_ACTIVITIES, MODEL_LIFECYCLE } from '../../orchestrations/lifecycle/names';
import { windowLengthMs, windowOf } from '../../shared/domain/windows';
import { modelInputSchema } from '../../shared/schemas/model';
import { referenceProfileSchema, type WindowSpan } from '../../shared/schemas/monitoring';
import { aRegionalModel } from '../support/model-kit';
import { shifted, usual, windowProfileOf } from '../support/monitoring-kit';
import { apiClient, eventually, regionalChampion } from '../support/product-devhost';
import { afterLastEpisode, expectChildrenOf, parentOf, spanIdOf, spansNamed, startTracedDevhost, type TracedDevhost, traceOf } from '../support/traced-devhost';

jest.setTimeout(180_000);

const MODEL = 'drifting';
/** Quick validation; a drift alert after two drifting windows, right after the promotion. */
const policies = { validation: { metric: 'rmse', minSegmentRows: 20, bootstrapResamples: 0 }, drift: { consecutiveWindows: 2, cooldown: 'PT0S' } };
const day = windowLengthMs('P1D');
/** The last three whole days: the monitor only judges windows that are over. */
const windows: WindowSpan[] = [3, 2, 1].map((daysAgo) => windowOf(Date.now() - daysAgo * day, day));

let traced: TracedDevhost;

beforeAll(async () => {
  // Only the admin call runs the monitor.
  traced = await startTracedDevhost('telemetry-servicebus-trace', { DRIFT_MONITOR_SCHEDULE: '0 0 0 1 1 *' }, { serviceBusTriggers: true });
});

afterEach(() => {
  if (process.env.SHOW_DEVHOST_LOG) console.log(traced.lines.join('\n'));
});

afterAll(async () => {
  await traced?.stop();
});

it('when the drift monitor sends a retraining request, then its handling and the new version lifecycle continue the monitor run trace', async () => {
  // v1 champion, with a training set the built-in trainer falls back on (no labelled rows here).
  await regionalChampion(traced.origin, MODEL, traced.upload, { policies, training: true });
  await afterLastEpisode(traced.exporter, MODEL_LIFECYCLE, LIFECYCLE_ACTIVITIES.closeRetraining);
  // What batch inference leaves for the monitor: one run profile per window, the last two drifted.
  const definition = modelInputSchema.parse(aRegionalModel(MODEL, policies));
  const reference = referenceProfileSchema.parse(JSON.parse((await traced.container.getBlobClient(`profiles/${MODEL}/v1/reference.json`).downloadToBuffer()).toString()));
  const rows = [usual(1), shifted(2), shifted(3)];
  for (const [i, window] of windows.entries()) {
    await traced.upload(`profiles/${MODEL}/windows/${window.id}/runs/run-${i}.json`, JSON.stringify(windowProfileOf(definition, reference, window, rows[i]!)));
  }
  traced.exporter.reset();

  const monitor = await fetch(`${traced.origin}/admin/functions/driftMonitor`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': traced.devhost.masterKey },
    body: JSON.stringify({ input: '' }),
  });
  expect(monitor.status).toBe(202);
  await eventually('v2, trained for the request, validated', async () => {
    const v2 = await apiClient(traced.origin, 'reader').get(`models/${MODEL}/versions/2`);
    return ['pending_approval', 'validation_failed'].includes(v2.body?.version?.state) ? true : undefined;
  }, 60_000);
  await afterLastEpisode(traced.exporter, MODEL_LIFECYCLE, LIFECYCLE_ACTIVITIES.recordValidation);
  // The monitor run and the request's handling go on alongside the new version's lifecycle (the
  // monitor after sending, the handling after starting it): their spans end when they do.
  const spans = await eventually('the monitor run and the request handling to end', async () => {
    const all = traced.exporter.getFinishedSpans();
    return spansNamed(all, 'driftMonitor').length > 0 && spansNamed(all, 'retraining').length > 0 ? all : undefined;
  });

  // The timer's span, and the request sent under it: a producer span whose context the message carries.
  const [run, ...otherRuns] = spansNamed(spans, 'driftMonitor');
  expect(otherRuns).toEqual([]);
  const [send, ...otherSends] = spansNamed(spans, 'publish retraining.requested').filter((s) => s.attributes['messaging.destination.name'] === 'retraining-requests');
  expect(otherSends).toEqual([]);
  expect(send!.kind).toBe(SpanKind.PRODUCER);
  expect({ trace: traceOf(send!), parent: parentOf(send!) }).toEqual({ trace: traceOf(run!), parent: spanIdOf(run!) });

  // The Service Bus trigger continues it: the producer span is its parent (delivered once here).
  const [handling, ...redeliveries] = spansNamed(spans, 'retraining');
  expect(redeliveries).toEqual([]);
  expect(handling!.kind).toBe(SpanKind.CONSUMER);
  expect({ trace: traceOf(handling!), parent: parentOf(handling!) }).toEqual({ trace: traceOf(run!), parent: spanIdOf(send!) });
  // What the handling publishes (the request's state changes) is under its span.
  expect(spansNamed(spans, 'publish retraining.changed').filter((p) => parentOf(p) === spanIdOf(handling!)).length).toBeGreaterThan(0);

  // The new version's lifecycle, started by the handling: every episode and activity under its span.
  expectChildrenOf(handling!, spans, [
    `orchestration ${MODEL_LIFECYCLE}`,
    LIFECYCLE_ACTIVITIES.readVersion,
    LIFECYCLE_ACTIVITIES.startValidation,
    LIFECYCLE_ACTIVITIES.validate,
    LIFECYCLE_ACTIVITIES.recordValidation,
  ]);
});
