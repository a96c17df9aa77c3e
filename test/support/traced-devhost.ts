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
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

import { type RunningDevhost, startDevhost } from '../../devhost/devhost';
import { TEST_IDENTITIES } from './product-devhost';

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

/** Starts devhost with `env` added to the process environment; spans go to `exporter`. */
export async function startTracedDevhost(name: string, env: Record<string, string> = {}): Promise<TracedDevhost> {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  process.env.DEVHOST_IDENTITIES = JSON.stringify(Object.fromEntries(Object.entries(TEST_IDENTITIES).map(([k, v]) => [`token-${k}`, v])));
  process.env.TELEMETRY_EXPORTER = 'none';
  Object.assign(process.env, env);
  const lines: string[] = [];
  let devhost: RunningDevhost | undefined;
  const stop = async () => {
    await devhost?.stop();
    await provider.shutdown();
    // The global API keeps what was registered: leave the process as it was for the next file.
    trace.disable();
    context.disable();
    propagation.disable();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    devhost = await startDevhost({
      appDir: path.join(__dirname, '..', '..'),
      main: '{functions,orchestrations}/**/*.ts',
      dataDir: path.join(dataDir, 'devhost'),
      port: 0,
      servicePorts: 'free',
      blobPollIntervalMs: 100,
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
