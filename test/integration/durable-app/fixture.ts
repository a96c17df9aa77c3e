import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DurableEngine, type DurableEngineOptions, workerInvoker } from '../../../devhost/durable';
import { defaultWorker } from '../../../devhost/worker';

/** A fresh directory for one test file's task hub. */
export function tempDir(prefix = 'durable-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
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
