/**
 * Durable engine throughput: a fan-out of 1,000 no-op activities through devhost's task hub
 * (SQLite store, SDK replay, devhost worker), reported as activities per second (target >= 200/s),
 * next to the same 1,000 activity invocations made directly through the worker (no engine), the
 * reference measured in the same run. Figures are printed, never asserted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as df from 'durable-functions';

import { DurableEngine, workerInvoker } from '../devhost/durable';
import { defaultWorker, installCoreModule } from '../devhost/worker';

const activities = 1000;

async function main(): Promise<void> {
  const worker = defaultWorker();
  worker.setLogSink(() => undefined);
  installCoreModule(worker);
  df.app.activity('benchNoop', { handler: (n: number) => n });
  df.app.orchestration('benchFanOut', function* (context) {
    const count = context.df.getInput<number>();
    const results: number[] = yield context.df.Task.all(
      Array.from({ length: count }, (_, i) => context.df.callActivity('benchNoop', i)),
    );
    return results.length;
  });

  // Reference: the same invocations straight through the worker.
  const directStart = performance.now();
  for (let i = 0; i < activities; i++) await worker.invoke('benchNoop', { triggerValue: i, quiet: true });
  const directMs = performance.now() - directStart;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'durable-bench-'));
  const engine = new DurableEngine({
    storePath: path.join(dir, 'hub.sqlite'),
    invoker: workerInvoker(worker, { quietActivities: true }),
  });
  engine.start();
  const started = performance.now();
  const id = engine.startNew('benchFanOut', { input: String(activities) });
  const done = await engine.waitFor(id, undefined, 300_000);
  const engineMs = performance.now() - started;
  const episodes = engine.getHistory(id).filter((e) => e.EventType === 12).length;
  await engine.stop();
  fs.rmSync(dir, { recursive: true, force: true });

  const rate = (activities / engineMs) * 1000;
  const directRate = (activities / directMs) * 1000;
  console.log(`fan-out of ${activities} no-op activities: ${done.runtimeStatus}, output ${done.output ?? ''}`);
  console.log(`  durable engine: ${engineMs.toFixed(0)} ms, ${rate.toFixed(0)} activities/s (target >= 200/s), ${episodes} episodes`);
  console.log(`  reference, direct worker invocations: ${directMs.toFixed(0)} ms, ${directRate.toFixed(0)} invocations/s`);
  console.log(`  ratio engine/direct throughput: ${(rate / directRate).toFixed(2)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
