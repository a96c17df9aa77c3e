import './durable-app/samples';

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { DurableEngine, EventType } from '../../devhost/durable';
import { removeTempDirs, startEngine, tempDir } from './durable-app/fixture';
import { gated } from './durable-app/samples';

const appDir = path.join(__dirname, 'durable-app');

function runChild(storePath: string, mode: 'start' | 'resume', execLog: string) {
  const child = spawn(
    process.execPath,
    ['-r', path.join(appDir, 'register-ts.js'), path.join(appDir, 'crash-child.ts'), storePath, mode],
    { env: { ...process.env, SAMPLE_EXEC_LOG: execLog }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = readline.createInterface({ input: child.stdout });
  return { child, lines, stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('durable engine crash safety', () => {
  afterAll(removeTempDirs);

  it('when the host is killed with SIGKILL mid fan-out and restarted, then the instance completes with each completion recorded once and the uninterrupted output', async () => {
    const dir = tempDir('durable-crash-');
    const storePath = path.join(dir, 'hub.sqlite');
    const execLog = path.join(dir, 'executions.log');

    // First life: start the 50-activity fan-out and kill -9 once some activities completed.
    const first = runChild(storePath, 'start', execLog);
    const firstExit = exited(first.child);
    let completedBeforeKill = -1;
    for await (const line of first.lines) {
      const match = /^progress (\d+)$/.exec(line);
      if (match && Number(match[1]) >= 10) {
        completedBeforeKill = Number(match[1]);
        first.child.kill('SIGKILL');
        break;
      }
      if (line.startsWith('done')) break;
    }
    expect((await firstExit).signal).toBe('SIGKILL');
    expect(completedBeforeKill).toBeGreaterThanOrEqual(10);
    expect(completedBeforeKill).toBeLessThan(50);

    // Second life on the same store: the instance resumes and completes.
    const second = runChild(storePath, 'resume', execLog);
    const secondExit = exited(second.child);
    let doneLine = '';
    for await (const line of second.lines) {
      if (line.startsWith('done')) {
        doneLine = line;
        break;
      }
    }
    expect((await secondExit).code).toBe(0);
    expect(second.stderr()).toBe('');
    expect(doneLine.startsWith('done Completed ')).toBe(true);
    const crashedOutput: unknown = JSON.parse(doneLine.slice('done Completed '.length));

    // The uninterrupted run of the same orchestration, for comparison.
    const reference = startEngine(path.join(dir, 'reference.sqlite'));
    let referenceOutput: unknown;
    try {
      const id = reference.startNew('sampleFanOut', { input: JSON.stringify({ count: 50, activity: 'sampleSlowSquare' }) });
      referenceOutput = JSON.parse((await reference.waitFor(id)).output ?? 'null');
    } finally {
      await reference.stop();
    }
    expect(crashedOutput).toEqual(referenceOutput);

    // Each activity's completion is in the history exactly once.
    const store = new DurableEngine({
      storePath,
      invoker: { has: () => false, invokeOrchestrator: () => Promise.reject(new Error('read only')), invokeActivity: () => Promise.reject(new Error('read only')) },
    });
    try {
      const history = store.getHistory('crash-fan-out');
      const completions = history.filter((e) => e.EventType === EventType.TaskCompleted).map((e) => e.TaskScheduledId);
      expect(completions).toHaveLength(50);
      expect(new Set(completions).size).toBe(50);
      expect(history.filter((e) => e.EventType === EventType.TaskScheduled)).toHaveLength(50);
      expect(store.store.countWorkItems()).toBe(0);
    } finally {
      await store.stop();
    }
    // Every activity ran at least once; the ones in flight at the kill ran again (at-least-once).
    const executions = fs.readFileSync(execLog, 'utf8').trim().split('\n').map(Number);
    expect(new Set(executions).size).toBe(50);
    expect(executions.length).toBeGreaterThanOrEqual(50);
  });

  it('when the engine is stopped while an activity runs and it answers within the grace, then its result is recorded and it does not run again after the restart', async () => {
    const storePath = path.join(tempDir('durable-stop-'), 'hub.sqlite');
    let release = () => undefined as void;
    gated.runs = 0;
    gated.hold = new Promise<void>((resolve) => (release = resolve));
    const first = startEngine(storePath);
    const id = first.startNew('sampleFanOut', { input: JSON.stringify({ count: 1, activity: 'sampleGated' }) });
    while (gated.runs === 0) await new Promise((r) => setTimeout(r, 10));
    const stopping = first.stop();
    release();
    await stopping;

    const second = startEngine(storePath);
    try {
      expect(JSON.parse((await second.waitFor(id)).output ?? 'null')).toBe(1);
      expect(gated.runs).toBe(1);
    } finally {
      await second.stop();
    }
  });

  it('when the engine restarts on the same store, then pending timers, buffered events and suspensions carry over', async () => {
    const storePath = path.join(tempDir('durable-restart-'), 'hub.sqlite');
    const first = startEngine(storePath);
    const timed = first.startNew('sampleApproval', { input: JSON.stringify({ timeoutMs: 300 }) });
    const echo = first.startNew('sampleEcho', { input: '"kept"' });
    const held = first.startNew('sampleEcho', { input: '"held"' });
    await first.waitFor(timed, (i) => i.runtimeStatus === 'Running');
    await first.waitFor(held, (i) => i.runtimeStatus === 'Running');
    first.suspend(held, 'over the restart');
    await first.waitFor(held, (i) => i.runtimeStatus === 'Suspended');
    first.raiseEvent(held, 'ping', '"later"');
    await first.stop();

    const second = startEngine(storePath);
    try {
      second.raiseEvent(echo, 'ping', '"after restart"');
      expect(JSON.parse((await second.waitFor(timed)).output ?? 'null')).toEqual({ outcome: 'timed out' });
      expect(JSON.parse((await second.waitFor(echo)).output ?? 'null')).toEqual({ input: 'kept', received: 'after restart' });
      expect(second.getInstance(held)?.runtimeStatus).toBe('Suspended');
      second.resume(held, undefined);
      expect(JSON.parse((await second.waitFor(held)).output ?? 'null')).toEqual({ input: 'held', received: 'later' });
    } finally {
      await second.stop();
    }
  });
});
