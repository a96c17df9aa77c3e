/**
 * Local Service Bus broker: sustained send + receive + complete through the real SDK on loopback.
 * The broker runs in its own process (as devhost would on a second core) with its SQLite store;
 * one client process sends batches while a peek-lock receiver completes every message. Prints
 * messages per second, end-to-end latency percentiles (send call -> handler), and the ratio to the
 * 2,000 msg/s target. Reference measured in the same run: the store alone (insert + delete per
 * message), the ceiling that persistence puts on the broker.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { ServiceBusClient } from '@azure/service-bus';

import { MessageStore } from '../devhost/servicebus/store';

const MESSAGES = Number(process.env.SB_BENCH_MESSAGES ?? 20_000);
const BATCH = 50;
/** Sent but not yet received: bounds the backlog so latency reflects the broker, not a queue. */
const MAX_IN_FLIGHT = 500;
const TARGET_PER_SECOND = 2_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function startBroker(dir: string): Promise<{ child: ChildProcess; connectionString: string }> {
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      UserConfig: {
        Namespaces: [{ Name: 'bench', Queues: [{ Name: 'bench', Properties: { LockDuration: 'PT1M' } }] }],
      },
    }),
  );
  const main = path.join(__dirname, '..', 'devhost', 'servicebus', 'main.js');
  const child = spawn(process.execPath, [main, '--config', config, '--data', path.join(dir, 'store')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return { child, connectionString: (JSON.parse(line) as { connectionString: string }).connectionString };
}

function storeReference(dir: string, count: number): number {
  const store = new MessageStore(path.join(dir, 'reference.sqlite'));
  const body = Buffer.alloc(120, 1);
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const seq = store.insert({
      sequenceNumber: i + 1,
      entity: 'q',
      state: 'active',
      enqueuedAt: 0,
      expiresAt: 0,
      visibleAt: 0,
      deliveryCount: 0,
      body,
    });
    store.setDeliveryCount(seq, 1);
    store.delete(seq);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  store.close();
  return count / seconds;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));
  const { child, connectionString } = await startBroker(dir);
  const client = new ServiceBusClient(connectionString);
  const sender = client.createSender('bench');
  const receiver = client.createReceiver('bench');
  const latencies: number[] = [];
  let received = 0;
  let sent = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let wake: (() => void) | undefined;

  // Warm up the links before timing.
  await sender.sendMessages({ body: { warmup: true } });
  const [warm] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  if (warm) await receiver.completeMessage(warm);

  const started = performance.now();
  const subscription = receiver.subscribe(
    {
      processMessage: async (message) => {
        const body = message.body as { sentAt: number };
        latencies.push(performance.now() - body.sentAt);
        received += 1;
        if (sent - received < MAX_IN_FLIGHT) wake?.();
        if (received === MESSAGES) done();
      },
      processError: async (args) => {
        console.error('receive error', args.error.message);
      },
    },
    { maxConcurrentCalls: 64, autoCompleteMessages: true },
  );
  while (sent < MESSAGES) {
    if (sent - received >= MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    const batch = await sender.createMessageBatch();
    const sentAt = performance.now();
    for (let i = 0; i < BATCH && sent + i < MESSAGES; i++)
      batch.tryAddMessage({ body: { i: sent + i, sentAt } });
    await sender.sendMessages(batch);
    sent += batch.count;
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await subscription.close();
  await client.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));

  const reference = storeReference(dir, 20_000);
  fs.rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const rate = MESSAGES / seconds;
  console.log(
    `messages                      ${MESSAGES} (batches of ${BATCH}, <= ${MAX_IN_FLIGHT} in flight)`,
  );
  console.log(
    `send+receive+complete         ${rate.toFixed(0)} msg/s  (${(rate / TARGET_PER_SECOND).toFixed(2)}x the ${TARGET_PER_SECOND} msg/s target)`,
  );
  console.log(
    `end-to-end latency            p50 ${percentile(latencies, 50).toFixed(1)} ms  p99 ${percentile(latencies, 99).toFixed(1)} ms  max ${(latencies.at(-1) ?? 0).toFixed(1)} ms`,
  );
  console.log(
    `reference: store alone        ${reference.toFixed(0)} msg/s insert+update+delete (broker reaches ${(rate / reference).toFixed(2)}x of it)`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
