/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * One trace per thing that starts work: devhost runs in this process with the product app and
 * the test captures the app's spans in memory (test/support/traced-devhost.ts). A data drop, an
 * actuals file and a version registered over HTTP each give one trace: the trigger's span, the
 * orchestration's episodes, every activity and the events they publish share its trace id. The
 * traceparent crosses the durable boundary in the orchestration's input and each activity's (and
 * sub-orchestration's) input, and the Service Bus boundary in the message's application properties.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';

import { ACTUALS_ACTIVITIES, ACTUALS_JOIN } from '../../orchestrations/actuals/names';
import { BATCH_ACTIVITIES, BATCH_INFERENCE } from '../../orchestrations/batch/names';
import { LIFECYCLE_ACTIVITIES, MODEL_LIFECYCLE } from '../../orchestrations/lifecycle/names';
import { regionalRows, toCsv } from '../support/model-kit';
import { apiClient, eventually, regionalChampion } from '../support/product-devhost';
import { afterLastEpisode, expectChildrenOf, parentOf, spanIdOf, spansNamed, startTracedDevhost, type TracedDevhost, traceOf } from '../support/traced-devhost';

jest.setTimeout(180_000);

let traced: TracedDevhost;

beforeAll(async () => {
  // Three chunks, scored one at a time: several batchScoreChunk invocations in the trace.
  traced = await startTracedDevhost('telemetry-trace', { BATCH_TARGET_CHUNK_BYTES: '16384', BATCH_MAX_PARALLEL_CHUNKS: '1' });
});

afterEach(() => {
  if (process.env.SHOW_DEVHOST_LOG) console.log(traced.lines.join('\n'));
});

afterAll(async () => {
  await traced?.stop();
});

const rows = regionalRows(1500, 9);

it('when a data drop is scored, then the trigger, the orchestration, every activity and the run.completed publish are one trace', async () => {
  await regionalChampion(traced.origin, 'traced', traced.upload);

  await traced.upload('drops/traced/day.csv', toCsv(rows));
  const run = await eventually('the run to complete', async () => {
    const runs = (await apiClient(traced.origin, 'reader').get('models/traced/runs')).body?.runs as { runId: string; state: string }[] | undefined;
    return runs?.find((r) => r.state === 'completed');
  }, 120_000);
  // The orchestrator runs once per episode: the first, then one after each activity's result
  // (chunks are scored one at a time), one after the run is recorded complete, and the last after
  // it asked which actuals files to late-match (none).
  const episodesOf = (all: ReadableSpan[]) => spansNamed(all, `orchestration ${BATCH_INFERENCE}`);
  const spans = await eventually('the last orchestration episode', async () => {
    const all = traced.exporter.getFinishedSpans();
    const chunks = spansNamed(all, BATCH_ACTIVITIES.scoreChunk).length;
    return chunks > 0 && episodesOf(all).length === 1 + 2 + chunks + 1 + 1 ? all : undefined;
  });

  const [trigger, ...otherTriggers] = spansNamed(spans, 'scoreDrop');
  expect(otherTriggers).toEqual([]);
  expect(trigger!.kind).toBe(SpanKind.CONSUMER);
  const traceId = traceOf(trigger!);
  const runSpans = spans.filter((s) => traceOf(s) === traceId);

  // Each episode and every activity of the run is a span under the trigger's, and none is elsewhere.
  const activities = [BATCH_ACTIVITIES.start, BATCH_ACTIVITIES.plan, BATCH_ACTIVITIES.scoreChunk, BATCH_ACTIVITIES.complete, ACTUALS_ACTIVITIES.lateRecords];
  for (const name of [`orchestration ${BATCH_INFERENCE}`, ...activities]) {
    expect({ name, inRun: spansNamed(runSpans, name).length }).toEqual({ name, inRun: spansNamed(spans, name).length });
  }
  expectChildrenOf(trigger!, runSpans, [`orchestration ${BATCH_INFERENCE}`, ...activities]);
  expect(spansNamed(runSpans, BATCH_ACTIVITIES.scoreChunk).length).toBeGreaterThanOrEqual(2);

  // The run.completed publish: a producer span under the batchCompleteRun activity's span.
  const [complete] = spansNamed(runSpans, BATCH_ACTIVITIES.complete);
  const [publish, ...morePublishes] = spansNamed(runSpans, 'publish run.completed');
  expect(morePublishes).toEqual([]);
  expect(publish!.kind).toBe(SpanKind.PRODUCER);
  expect(parentOf(publish!)).toBe(spanIdOf(complete!));
  expect(publish!.attributes).toMatchObject({ 'messaging.destination.name': 'model-events', 'messaging.message.id': `run:${run.runId}:completed` });

  // The message itself carries the publish span's context, for the consumer to continue the trace.
  const client = new ServiceBusClient(process.env.SERVICEBUS_CONNECTION_STRING!);
  try {
    const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
    const message = await eventually('the run.completed message', async () => {
      const received = await receiver.receiveMessages(200, { maxWaitTimeInMs: 500 });
      return received.find((m) => m.messageId === `run:${run.runId}:completed`);
    }, 60_000);
    const expected = `00-${traceId}-${spanIdOf(publish!)}-01`;
    expect(message.applicationProperties).toMatchObject({ traceparent: expected, 'Diagnostic-Id': expected });
  } finally {
    await client.close();
  }
});

it('when actuals of the scored drop land, then the trigger, the actualsJoin orchestration, its activities and the run.completed publish are one trace', async () => {
  traced.exporter.reset();
  const actuals = `id,actual\n${rows.slice(0, 100).map((r) => `${r.id},${r.actual}`).join('\n')}\n`;
  await traced.upload('actuals/traced/day.csv', actuals);
  await eventually('the join to complete', async () => {
    const found = (await apiClient(traced.origin, 'reader').get('models/traced/actuals')).body?.actuals?.[0];
    if (found?.state === 'failed') throw new Error(`the join failed: ${found.error}`);
    return found?.state === 'completed' ? found : undefined;
  }, 60_000);
  // The join ends by asking whether the champion needs revalidating (no new segment here).
  const spans = await afterLastEpisode(traced.exporter, ACTUALS_JOIN, LIFECYCLE_ACTIVITIES.revalidationFor);

  const [trigger, ...otherTriggers] = spansNamed(spans, 'joinActuals');
  expect(otherTriggers).toEqual([]);
  const activities = [ACTUALS_ACTIVITIES.plan, ACTUALS_ACTIVITIES.joinBucket, ACTUALS_ACTIVITIES.updateWindow, ACTUALS_ACTIVITIES.complete, LIFECYCLE_ACTIVITIES.revalidationFor];
  expectChildrenOf(trigger!, spans, [`orchestration ${ACTUALS_JOIN}`, ...activities]);
  const [complete] = spansNamed(spans, ACTUALS_ACTIVITIES.complete);
  expect(spansNamed(spans, 'publish run.completed').map(parentOf)).toEqual([spanIdOf(complete!)]);
});

it('when a version is registered over HTTP, then the request, the modelLifecycle orchestration, its activities and the lifecycle events they publish are one trace', async () => {
  traced.exporter.reset();
  // Defines the model, registers v1 (the traced request), approves it once validated (its own trace).
  await regionalChampion(traced.origin, 'registered', traced.upload);
  const spans = await afterLastEpisode(traced.exporter, MODEL_LIFECYCLE, LIFECYCLE_ACTIVITIES.closeRetraining);

  const [register, ...otherRegistrations] = spansNamed(spans, 'registerVersion');
  expect(otherRegistrations).toEqual([]);
  expect(register!.kind).toBe(SpanKind.SERVER);
  const activities = [
    LIFECYCLE_ACTIVITIES.readVersion,
    LIFECYCLE_ACTIVITIES.startValidation,
    LIFECYCLE_ACTIVITIES.validate,
    LIFECYCLE_ACTIVITIES.recordValidation,
    LIFECYCLE_ACTIVITIES.promote,
    LIFECYCLE_ACTIVITIES.closeRetraining,
  ];
  // The episodes after the approval too: the trace comes from the orchestration input, not from the event.
  expectChildrenOf(register!, spans, [`orchestration ${MODEL_LIFECYCLE}`, ...activities]);
  expect(spansNamed(spans, LIFECYCLE_ACTIVITIES.readVersion).length).toBe(2);

  // The transitions the activities make are published under their spans: validating,
  // pending_approval, production. The approval itself is published under the approve request's.
  const byId = new Map(spans.map((s) => [spanIdOf(s), s]));
  const transitions = spansNamed(spans, 'publish lifecycle.changed').map((p) => ({ trace: traceOf(p) === traceOf(register!), under: byId.get(parentOf(p)!)?.name }));
  expect(transitions).toEqual(
    expect.arrayContaining([
      { trace: true, under: LIFECYCLE_ACTIVITIES.startValidation },
      { trace: true, under: LIFECYCLE_ACTIVITIES.recordValidation },
      { trace: true, under: LIFECYCLE_ACTIVITIES.promote },
      { trace: false, under: 'approveVersion' },
    ]),
  );
  expect(transitions).toHaveLength(4);
});
