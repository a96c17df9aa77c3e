/**
 * A devhost-like process for the crash test: the devhost worker with the sample app, and the
 * durable engine on the store named in argv. `start` also starts the 50-activity fan-out.
 * Prints `progress <completed activities>` as the fan-out advances and `done <output>` at the end.
 */
import { DurableEngine, EventType, isTerminal, workerInvoker } from '../../../devhost/durable';
import { defaultWorker, installCoreModule } from '../../../devhost/worker';

const [storePath, mode] = process.argv.slice(2);
if (!storePath || (mode !== 'start' && mode !== 'resume')) throw new Error('usage: crash-child <store> start|resume');

const worker = defaultWorker();
worker.setLogSink(() => undefined);
installCoreModule(worker);
// eslint-disable-next-line @typescript-eslint/no-require-imports -- after the core module is installed, as the worker loads apps
require('./samples');

const instanceId = 'crash-fan-out';
const engine = new DurableEngine({ storePath, invoker: workerInvoker(worker, { quietActivities: true }), maxConcurrentActivities: 4 });
engine.start();
if (mode === 'start') {
  engine.startNew('sampleFanOut', { instanceId, input: JSON.stringify({ count: 50, activity: 'sampleSlowSquare' }) });
}

let reported = -1;
const timer = setInterval(() => {
  const completed = engine.getHistory(instanceId).filter((e) => e.EventType === EventType.TaskCompleted).length;
  if (completed !== reported) {
    reported = completed;
    process.stdout.write(`progress ${completed}\n`);
  }
  const instance = engine.getInstance(instanceId);
  if (instance && isTerminal(instance.runtimeStatus)) {
    clearInterval(timer);
    process.stdout.write(`done ${instance.runtimeStatus} ${instance.output ?? ''}\n`);
    void engine.stop().then(() => process.exit(0));
  }
}, 5);
