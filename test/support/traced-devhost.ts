/**
 * devhost in the test process with the product app, and the test owning the OpenTelemetry tracer
 * provider (TELEMETRY_EXPORTER is `none`, so the app installs none): every span the app makes is
 * captured in memory, for tests that follow one trace across triggers, orchestrations, activities
 * and Service Bus messages. Test files using it need the `host-typed-arrays-environment`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-node';

import { type RunningDevhost, startDevhost } from '../../devhost/devhost';
import { type RunningServiceBusBroker, startServiceBusBroker } from '../../devhost/servicebus/broker';
import { serviceBusListener } from '../../devhost/triggers/servicebus';
import { eventually, TEST_IDENTITIES } from './product-devhost';
import { captureSpans } from './span-capture';

export interface TracedDevhost {
  devhost: RunningDevhost;
  origin: string;
  exporter: InMemorySpanExporter;
  /** The data container (`mlops`). */
  container: ContainerClient;
  upload(name: string, body: string | Buffer): Promise<unknown>;
  /** devhost's log lines (printed after each test with SHOW_DEVHOST_LOG set). */
  lines: string[];
  stop(): Promise<void>;
}

/**
 * Starts devhost with `env` added to the process environment; spans go to `exporter`. With
 * `serviceBusTriggers`, a broker of its own and the Service Bus listener, so that Service Bus
 * triggered functions run (on the shared test broker they would take other files' messages).
 */
export async function startTracedDevhost(name: string, env: Record<string, string> = {}, options: { serviceBusTriggers?: boolean } = {}): Promise<TracedDevhost> {
  const spans = captureSpans();
  const exporter = spans.exporter;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  process.env.DEVHOST_IDENTITIES = JSON.stringify(Object.fromEntries(Object.entries(TEST_IDENTITIES).map(([k, v]) => [`token-${k}`, v])));
  process.env.TELEMETRY_EXPORTER = 'none';
  Object.assign(process.env, env);
  const lines: string[] = [];
  let devhost: RunningDevhost | undefined;
  let broker: RunningServiceBusBroker | undefined;
  const stop = async () => {
    await devhost?.stop();
    await broker?.stop();
    await spans.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    if (options.serviceBusTriggers) {
      broker = await startServiceBusBroker({ dataDir: path.join(dataDir, 'servicebus') });
      process.env.SERVICEBUS_CONNECTION_STRING = broker.connectionString;
    }
    devhost = await startDevhost({
      appDir: path.join(__dirname, '..', '..'),
      main: '{functions,orchestrations}/**/*.ts',
      dataDir: path.join(dataDir, 'devhost'),
      port: 0,
      servicePorts: 'free',
      blobPollIntervalMs: 100,
      listeners: broker ? [serviceBusListener({ brokerConnectionString: broker.connectionString, log: (line) => lines.push(line) })] : [],
      log: (line) => lines.push(line),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const container = BlobServiceClient.fromConnectionString(devhost.azurite.connectionString).getContainerClient('mlops');
  await container.createIfNotExists();
  return {
    devhost,
    origin: devhost.host.origin,
    exporter,
    container,
    upload: (blob, body) => container.getBlockBlobClient(blob).upload(body, Buffer.byteLength(body)),
    lines,
    stop,
  };
}

export const spansNamed = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
export const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
export const traceOf = (span: ReadableSpan) => span.spanContext().traceId;
export const spanIdOf = (span: ReadableSpan) => span.spanContext().spanId;

const nanos = ([seconds, ns]: [number, number]) => BigInt(seconds) * 1_000_000_000n + BigInt(ns);

/** The spans so far, once an episode of `orchestration` began after a `lastActivity` span ended (so the run's last episode ran). */
export function afterLastEpisode(exporter: InMemorySpanExporter, orchestration: string, lastActivity: string): Promise<ReadableSpan[]> {
  return eventually(`the ${orchestration} episode after ${lastActivity}`, async () => {
    const all = exporter.getFinishedSpans();
    const last = spansNamed(all, lastActivity).at(-1);
    if (!last) return undefined;
    const episodeAfter = spansNamed(all, `orchestration ${orchestration}`).some((e) => nanos(e.startTime) >= nanos(last.endTime));
    return episodeAfter ? all : undefined;
  }, 60_000);
}

/** Spans named each of `names` exist, and each is a child of `parent` (so in its trace) linked to the host's own context. */
export function expectChildrenOf(parent: ReadableSpan, spans: ReadableSpan[], names: string[]): void {
  for (const name of names) {
    const named = spansNamed(spans, name);
    expect({ name, count: named.length }).not.toEqual({ name, count: 0 });
    for (const span of named) {
      expect({ name, trace: traceOf(span), parent: parentOf(span) }).toEqual({ name, trace: traceOf(parent), parent: spanIdOf(parent) });
      // The host's own context for the invocation is kept as a link.
      expect(span.links).toHaveLength(1);
    }
  }
}
