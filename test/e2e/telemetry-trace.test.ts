/** @jest-environment ./test/support/host-typed-arrays-environment.js */
/**
 * One data drop is one trace: devhost runs in this process with the product app, and the test
 * owns the OpenTelemetry tracer provider (TELEMETRY_EXPORTER is `none`, so the app installs
 * none), capturing spans in memory. The blob trigger's span, the batchInference orchestrator's
 * episodes, every activity of the run and the publish of `run.completed` share its trace id:
 * the traceparent crosses the durable boundary in the orchestration's input and each activity's
 * input, and the Service Bus boundary in the message's application properties.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ServiceBusClient } from '@azure/service-bus';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

import { type RunningDevhost, startDevhost } from '../../devhost/devhost';
import { BATCH_ACTIVITIES, BATCH_INFERENCE } from '../../orchestrations/batch/names';
import { regionalRows, toCsv } from '../support/model-kit';
import { apiClient, eventually, regionalChampion, TEST_IDENTITIES } from '../support/product-devhost';

jest.setTimeout(180_000);

const root = path.join(__dirname, '..', '..');
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let dataDir: string;
let devhost: RunningDevhost;
const lines: string[] = [];

beforeAll(async () => {
  provider.register();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telemetry-trace-'));
  process.env.DEVHOST_IDENTITIES = JSON.stringify(Object.fromEntries(Object.entries(TEST_IDENTITIES).map(([k, v]) => [`token-${k}`, v])));
  process.env.TELEMETRY_EXPORTER = 'none';
  // Three chunks, scored one at a time: several batchScoreChunk invocations in the trace.
  process.env.BATCH_TARGET_CHUNK_BYTES = '16384';
  process.env.BATCH_MAX_PARALLEL_CHUNKS = '1';
  devhost = await startDevhost({
    appDir: root,
    main: '{functions,orchestrations}/**/*.ts',
    dataDir: path.join(dataDir, 'devhost'),
    port: 0,
    servicePorts: 'free',
    blobPollIntervalMs: 100,
    log: (line) => lines.push(line),
  });
});

afterEach(() => {
  if (process.env.SHOW_DEVHOST_LOG) console.log(lines.join('\n'));
});

afterAll(async () => {
  await devhost?.stop();
  await provider.shutdown();
  // The global API keeps what was registered: leave the process as it was for the next file.
  trace.disable();
  context.disable();
  propagation.disable();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const spansNamed = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

it('when a data drop is scored, then the trigger, the orchestration, every activity and the run.completed publish are one trace', async () => {
  const origin = devhost.host.origin;
  const container = (await import('@azure/storage-blob')).BlobServiceClient.fromConnectionString(devhost.azurite.connectionString).getContainerClient('mlops');
  await container.createIfNotExists();
  const put = (name: string, body: string) => container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
  await regionalChampion(origin, 'traced', put);

  await put('drops/traced/day.csv', toCsv(regionalRows(1500, 9)));
  const run = await eventually('the run to complete', async () => {
    const runs = (await apiClient(origin, 'reader').get('models/traced/runs')).body?.runs as { runId: string; state: string }[] | undefined;
    return runs?.find((r) => r.state === 'completed');
  }, 120_000);
  // The orchestrator runs once per episode: the first, then one after each activity's result
  // (chunks are scored one at a time). The last ends after the run is recorded complete.
  const episodesOf = (all: ReadableSpan[]) => spansNamed(all, `orchestration ${BATCH_INFERENCE}`);
  const spans = await eventually('the last orchestration episode', async () => {
    const all = exporter.getFinishedSpans();
    const chunks = spansNamed(all, BATCH_ACTIVITIES.scoreChunk).length;
    return chunks > 0 && episodesOf(all).length === 1 + 2 + chunks + 1 ? all : undefined;
  });

  const [trigger, ...otherTriggers] = spansNamed(spans, 'scoreDrop');
  expect(otherTriggers).toEqual([]);
  expect(trigger!.kind).toBe(SpanKind.CONSUMER);
  const traceId = trigger!.spanContext().traceId;
  const runSpans = spans.filter((s) => s.spanContext().traceId === traceId);

  // Each episode is a span, under the trigger's.
  const episodes = episodesOf(runSpans);
  expect(episodes.length).toBe(episodesOf(spans).length);
  // Every activity of the run, under the trigger's span, and none elsewhere.
  const activities = [BATCH_ACTIVITIES.start, BATCH_ACTIVITIES.plan, BATCH_ACTIVITIES.scoreChunk, BATCH_ACTIVITIES.complete];
  for (const name of activities) {
    expect({ name, inRun: spansNamed(runSpans, name).length }).toEqual({ name, inRun: spansNamed(spans, name).length });
    expect({ name, inRun: spansNamed(runSpans, name).length }).not.toEqual({ name, inRun: 0 });
  }
  expect(spansNamed(runSpans, BATCH_ACTIVITIES.scoreChunk).length).toBeGreaterThanOrEqual(2);
  for (const span of [...episodes, ...runSpans.filter((s) => activities.includes(s.name as never))]) {
    expect({ name: span.name, parent: parentOf(span) }).toEqual({ name: span.name, parent: trigger!.spanContext().spanId });
    // The host's own context for the invocation is kept as a link.
    expect(span.links).toHaveLength(1);
  }

  // The run.completed publish: a producer span under the batchCompleteRun activity's span.
  const [complete] = spansNamed(runSpans, BATCH_ACTIVITIES.complete);
  const [publish, ...morePublishes] = spansNamed(runSpans, 'publish run.completed');
  expect(morePublishes).toEqual([]);
  expect(publish!.kind).toBe(SpanKind.PRODUCER);
  expect(parentOf(publish!)).toBe(complete!.spanContext().spanId);
  expect(publish!.attributes).toMatchObject({ 'messaging.destination.name': 'model-events', 'messaging.message.id': `run:${run.runId}:completed` });

  // The message itself carries the publish span's context, for the consumer to continue the trace.
  const client = new ServiceBusClient(process.env.SERVICEBUS_CONNECTION_STRING!);
  try {
    const receiver = client.createReceiver('model-events', 'all-events', { receiveMode: 'receiveAndDelete' });
    const message = await eventually('the run.completed message', async () => {
      const received = await receiver.receiveMessages(200, { maxWaitTimeInMs: 500 });
      return received.find((m) => m.messageId === `run:${run.runId}:completed`);
    }, 60_000);
    const expected = `00-${traceId}-${publish!.spanContext().spanId}-01`;
    expect(message.applicationProperties).toMatchObject({ traceparent: expected, 'Diagnostic-Id': expected });
  } finally {
    await client.close();
  }
});
