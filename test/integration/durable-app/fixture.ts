import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DurableEngine, type DurableEngineOptions, workerInvoker } from '../../../devhost/durable';
import { defaultWorker } from '../../../devhost/worker';

const created: string[] = [];

/** A fresh directory for one test file's task hub; `removeTempDirs` deletes it. */
export function tempDir(prefix = 'durable-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Deletes the directories `tempDir` made in this test file (after its engines have stopped). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** An engine over the sample app registered in this module registry's devhost worker. */
export function startEngine(storePath: string, options: Partial<DurableEngineOptions> = {}): DurableEngine {
  const worker = defaultWorker();
  worker.setLogSink(() => undefined);
  const engine = new DurableEngine({
    storePath,
    invoker: workerInvoker(worker, { quietActivities: true }),
    ...options,
  });
  engine.start();
  return engine;
}
