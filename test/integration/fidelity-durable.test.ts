/**
 * Fidelity suite, Durable part: the durable-functions samples (test/fidelity-app) run on devhost
 * through the real DurableClient, asserting what Azure answers (issue 15).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';
import * as df from 'durable-functions';

import { EventType } from '../../devhost/durable';
import { peekQueueMessages, queryTableEntities, storageAccount } from '../../devhost/host/bindings/storage-rest';
import { localCosmosClient } from '../../devhost/services/cosmos-snapshot';
import { attempts, gate } from '../fidelity-app/functions/durable-samples';
import { type FidelityHost, fidelitySettings, startFidelityHost } from '../support/fidelity-host';

let dh: FidelityHost;

beforeAll(async () => {
  dh = await startFidelityHost();
});
afterAll(async () => {
  await dh.stop();
});

async function run(name: string, input?: unknown): Promise<{ id: string; output: unknown; runtimeStatus: string }> {
  const id = await dh.client.startNew(name, input === undefined ? {} : { input });
  const done = await dh.engine.waitFor(id);
  return { id, output: done.output === undefined ? undefined : JSON.parse(done.output), runtimeStatus: done.runtimeStatus };
}

/** Polls a status URL as a client of the async HTTP API would, until it stops answering 202. */
async function pollStatus(statusUri: string): Promise<{ status: number; body: Record<string, unknown> }> {
  for (let i = 0; i < 300; i++) {
    const res = await fetch(statusUri);
    if (res.status !== 202) return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${statusUri} kept answering 202`);
}

const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function rawStatus(id: string, query = ''): Promise<{ status: number; body: Record<string, unknown> & { historyEvents?: Array<Record<string, unknown>> } }> {
  const res = await fetch(dh.durableUrl(`instances/${encodeURIComponent(id)}${query}`));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const until = async (what: string, probe: () => boolean | Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 500; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('fidelity: activities get (input, context) as on Azure', () => {
  it('when an activity is called without an input, then it gets undefined as its input and the InvocationContext second', async () => {
    const { id, output, runtimeStatus } = await run('callWithoutInput');
    expect(runtimeStatus).toBe('Completed');
    expect(output).toEqual({
      withoutInput: { inputType: 'undefined', input: null, contextFunctionName: 'describeArguments', instanceId: id },
      withInput: { inputType: 'object', input: { city: 'Oslo' }, contextFunctionName: 'describeArguments', instanceId: id },
    });
  });

  it('when the callActivityWithRetry sample runs, then the activity logs through its context and fails with its own error each attempt', async () => {
    attempts.delete('flakyFunction');
    const { id, output, runtimeStatus } = await run('callActivityWithRetry');
    expect(runtimeStatus).toBe('Completed');
    expect(output).toBeNull();
    expect(attempts.get('flakyFunction')).toBe(2);
    const failures = dh.engine.getHistory(id).filter((e) => e.EventType === EventType.TaskFailed);
    expect(failures.map((e) => String(e.Reason))).toEqual([
      "Activity function 'flakyFunction' failed: FlakyFunction flaked",
      "Activity function 'flakyFunction' failed: FlakyFunction flaked",
    ]);
  });
});

describe('fidelity: output and input bindings are written, not dropped', () => {
  const storage = () => BlobServiceClient.fromConnectionString(fidelitySettings.StorageConnString);

  it('when the backupSiteContent sample runs, then each file lands in backups/{backupPath} through the blob output binding', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fidelity-site-'));
    fs.mkdirSync(path.join(root, 'sub'));
    fs.writeFileSync(path.join(root, 'index.html'), '<h1>hello</h1>');
    fs.writeFileSync(path.join(root, 'sub', 'logo.bin'), Buffer.from([0, 1, 2, 255]));
    try {
      const { output, runtimeStatus } = await run('backupSiteContent', root);
      expect(runtimeStatus).toBe('Completed');
      expect(output).toBe(14 + 4);
      const backups = storage().getContainerClient('backups');
      expect((await backups.getBlobClient('index.html').downloadToBuffer()).toString()).toBe('<h1>hello</h1>');
      expect([...(await backups.getBlobClient('sub/logo.bin').downloadToBuffer())]).toEqual([0, 1, 2, 255]);

      // The blob input binding reads it back; a missing blob is null (404 here).
      expect(await (await fetch(`${dh.host.origin}/api/backups/index.html`)).text()).toBe('<h1>hello</h1>');
      expect((await fetch(`${dh.host.origin}/api/backups/missing.html`)).status).toBe(404);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('when a function sets queue, table and Cosmos outputs, then the messages, the entity and the document are stored', async () => {
    const id = `n-${Date.now()}`;
    const res = await fetch(`${dh.host.origin}/api/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, model: 'churn', text: 'retrain soon' }),
    });
    expect(res.status).toBe(201);

    const account = storageAccount(fidelitySettings.StorageConnString);
    // Storage Queues extension 5.x: base64 text, one message per array element, objects as JSON.
    const messages = (await peekQueueMessages(account, 'fidelity-outbox')).map((m) => Buffer.from(m, 'base64').toString());
    expect(messages).toEqual(expect.arrayContaining([`note ${id}`, JSON.stringify({ id, model: 'churn' })]));

    const entities = await queryTableEntities(account, 'fidelityAudit', `RowKey eq '${id}'`);
    expect(entities).toEqual([expect.objectContaining({ PartitionKey: 'audit', RowKey: id, text: 'retrain soon' })]);

    const cosmos = localCosmosClient({ endpoint: process.env.COSMOS_ENDPOINT ?? '', key: process.env.COSMOS_KEY ?? '' });
    const { resource } = await cosmos.database('fidelity').container('notes').item(id, 'churn').read<{ text: string }>();
    expect(resource?.text).toBe('retrain soon');
    cosmos.dispose();
  });

  it('when a table output repeats an entity key, then the invocation fails (the binding only inserts) and nothing is overwritten', async () => {
    const id = `dup-${Date.now()}`;
    const post = (text: string) =>
      fetch(`${dh.host.origin}/api/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, model: 'churn', text }),
      });
    expect((await post('first')).status).toBe(201);
    expect((await post('second')).status).toBe(500);
    const entities = await queryTableEntities(storageAccount(fidelitySettings.StorageConnString), 'fidelityAudit', `RowKey eq '${id}'`);
    expect(entities.map((e) => e.text)).toEqual(['first']);
  });
});

describe('fidelity: the durable-functions samples give Azure\'s documented results', () => {
  it('when helloSequence is started through the httpStart sample, then 202 + Location, and the status URL ends 200 with the three greetings', async () => {
    const started = await post(`${dh.host.origin}/api/orchestrators/helloSequence`, null);
    expect(started.status).toBe(202);
    const links = (await started.json()) as { id: string; statusQueryGetUri: string; sendEventPostUri: string };
    expect(started.headers.get('location')).toBe(links.statusQueryGetUri);
    const { status, body } = await pollStatus(links.statusQueryGetUri);
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'helloSequence', runtimeStatus: 'Completed', output: ['Hello Tokyo', 'Hello Seattle', 'Hello Cairo'] });
  });

  it('when httpSyncStart waits for sayHelloWithCustomStatus, then the response is 200 with the output itself', async () => {
    const res = await post(`${dh.host.origin}/api/orchestrators/wait/sayHelloWithCustomStatus?timeout=5&retryInterval=1`, 'Ada');
    expect(res.status).toBe(200);
    expect(await res.json()).toBe('Hello Ada');
  });

  it('when 30 activities fan out, then the fan-in sums every result', async () => {
    const { output } = await run('fanOutFanIn', 30);
    expect(output).toBe(Array.from({ length: 30 }, (_, i) => i * i).reduce((a, b) => a + b, 0));
  });

  it('when the approval event arrives before the timer, then the event wins; without it the timer wins', async () => {
    const approved = await dh.client.startNew('approvalWithTimeout', { input: 60_000 });
    await until('the orchestrator to wait', () => dh.engine.getInstance(approved)?.runtimeStatus === 'Running');
    await dh.client.raiseEvent(approved, 'Approval', { by: 'grace' });
    expect(JSON.parse((await dh.engine.waitFor(approved)).output ?? 'null')).toEqual({ outcome: 'approved', by: { by: 'grace' } });

    const { output } = await run('approvalWithTimeout', 30);
    expect(output).toEqual({ outcome: 'timed out' });
  });

  it('when the cancelTimer sample finishes its activity first, then it completes without waiting for its 2-minute timer', async () => {
    const { output } = await run('cancelTimer');
    expect(output).toBe('Hello from the other side');
  });

  it('when the weatherMonitor pattern polls until clear, then it checks on its timer, alerts once and ends', async () => {
    const { id, output } = await run('weatherMonitor', { location: 'Oslo', clearAfter: 3, intervalMs: 20 });
    expect(output).toBe(3);
    expect((await dh.client.getStatus(id)).customStatus).toEqual({ checks: 3 });
  });

  it('when the continueAsNewCounter sample restarts itself, then the last execution\'s input and output are reported', async () => {
    const { id, output } = await run('continueAsNewCounter');
    expect(output).toBe(3);
    expect((await dh.client.getStatus(id)).input).toBe(2);
  });

  it('when a sub-orchestration is started without an id, then its id is {parent executionId}:{task id} (DTFx), not {parent id}:0', async () => {
    const { id, output } = await run('sayHelloWithSubOrchestrator', 'Lima');
    expect(output).toBe('Hello Lima');
    const parent = dh.engine.getInstance(id);
    const created = dh.engine.getHistory(id).find((e) => e.EventType === EventType.SubOrchestrationInstanceCreated);
    expect(parent?.executionId).toMatch(/^[0-9a-f]{32}$/);
    expect(created?.InstanceId).toBe(`${parent?.executionId}:0`);
    expect(dh.engine.getInstance(`${id}:0`)).toBeUndefined();
  });

  it('when the callSubOrchestratorWithRetry sample runs, then each attempt\'s child gets the default id, fails, and the parent catches the last failure', async () => {
    const { id, output, runtimeStatus } = await run('callSubOrchestratorWithRetry');
    expect(runtimeStatus).toBe('Completed');
    expect(output).toBeNull();
    // The sample's `instanceId` sits inside the input object (see the sample), so it is not used.
    expect(dh.engine.getInstance(`${id}:0`)).toBeUndefined();
    const executionId = dh.engine.getInstance(id)?.executionId ?? '';
    const children = dh.engine.getHistory(id).filter((e) => e.EventType === EventType.SubOrchestrationInstanceCreated);
    // Attempt 1 is task 0, its retry timer task 1, attempt 2 task 2.
    expect(children.map((e) => e.InstanceId)).toEqual([`${executionId}:0`, `${executionId}:2`]);
    for (const child of children) expect(dh.engine.getInstance(child.InstanceId ?? '')?.runtimeStatus).toBe('Failed');
    expect(dh.engine.getHistory(id).filter((e) => e.EventType === EventType.SubOrchestrationInstanceFailed)).toHaveLength(2);
  });
});

describe('fidelity: status payloads have Azure\'s shape', () => {
  it('when status is asked with showHistory, then the client gets historyEvents (not history): pending activities and timers are there, inputs as JSON text, results only with showHistoryOutput', async () => {
    const key = `gate-${Date.now()}`;
    const id = await dh.client.startNew('gatedChain', { input: key });
    await until('the gated activity to start', () =>
      dh.engine.getHistory(id).some((e) => e.EventType === EventType.TaskScheduled && e.Name === 'waitAtGate'),
    );
    const viaClient = await dh.client.getStatus(id, { showHistory: true });
    expect(viaClient.history).toBeUndefined(); // DurableOrchestrationStatus reads `history`; the extension sends `historyEvents`

    const running = (await rawStatus(id, '?showHistory=true')).body.historyEvents ?? [];
    expect(running.map((e) => e.EventType)).toEqual(['ExecutionStarted', 'TaskCompleted', 'TaskScheduled']);
    expect(running[0]).toMatchObject({ FunctionName: 'gatedChain', Input: JSON.stringify(key) });
    expect(running[1]).toMatchObject({ FunctionName: 'sayHello', Input: JSON.stringify(key) });
    expect(running[1]).not.toHaveProperty('Result');
    expect(running[2]).toMatchObject({ Name: 'waitAtGate', Input: JSON.stringify(key) });
    expect(running[1]).not.toHaveProperty('EventId');

    gate(key).open();
    await dh.engine.waitFor(id);
    const done = (await rawStatus(id, '?showHistory=true&showHistoryOutput=true')).body.historyEvents ?? [];
    expect(done.map((e) => e.EventType)).toEqual(['ExecutionStarted', 'TaskCompleted', 'TaskCompleted', 'ExecutionCompleted']);
    expect(done[2]).toMatchObject({ FunctionName: 'waitAtGate', Result: `passed ${key}` });
    expect(done[3]).toMatchObject({ OrchestrationStatus: 'Completed', Result: [`Hello ${key}`, `passed ${key}`] });
    const noInput = (await rawStatus(id, '?showHistory=true&showInput=false')).body;
    expect(noInput.input).toBeNull();
    expect((noInput.historyEvents ?? []).some((e) => 'Input' in e)).toBe(false);
  });

  it('when an orchestration waits on a timer and an event arrives, then the TimerCreated and the event with its input are in the history', async () => {
    const id = await dh.client.startNew('approvalWithTimeout', { input: 60_000 });
    await until('the timer', () => dh.engine.getHistory(id).some((e) => e.EventType === EventType.TimerCreated));
    const waiting = (await rawStatus(id, '?showHistory=true')).body.historyEvents ?? [];
    expect(waiting.map((e) => e.EventType)).toEqual(['ExecutionStarted', 'TimerCreated']);
    expect(waiting[1]).toHaveProperty('FireAt');
    await dh.client.raiseEvent(id, 'Approval', 'yes');
    await dh.engine.waitFor(id);
    const done = (await rawStatus(id, '?showHistory=true')).body.historyEvents ?? [];
    expect(done.find((e) => e.EventType === 'EventRaised')).toMatchObject({ Name: 'Approval', Input: '"yes"' });
  });

  it('when an instance is unknown or has ended, then 404 and 410 come with an empty body', async () => {
    const missing = await fetch(dh.durableUrl('instances/nobody-here'));
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('');
    const { id } = await run('sayHelloWithActivity', 'x');
    const late = await post(dh.durableUrl(`instances/${id}/raiseEvent/Approval`), 1);
    expect(late.status).toBe(410);
    expect(await late.text()).toBe('');
    const terminate = await post(dh.durableUrl(`instances/${id}/terminate`));
    expect(terminate.status).toBe(410);
    expect(await terminate.text()).toBe('');
  });
});

describe('fidelity: what an orchestrator throws', () => {
  it.each([['string'], ['emptyError']])(
    'when an orchestrator throws a value with no message (%s), then the instance stays Running as on Azure, its scheduled work done, and devhost says why',
    async (how) => {
      const id = await dh.client.startNew('throwsWithoutMessage', { input: how });
      const warning = `throwsWithoutMessage ${id}: the orchestrator threw a value with no error message`;
      // The throw comes on the episode that delivers the activity's result.
      await until('the warning', () => dh.lines.some((l) => l.includes(warning)));
      await new Promise((r) => setTimeout(r, 50));
      expect(dh.engine.getInstance(id)?.runtimeStatus).toBe('Running');
      const status = await rawStatus(id);
      expect(status.status).toBe(202);
      expect(status.body).toMatchObject({ runtimeStatus: 'Running', customStatus: 'before the throw', output: null });
      expect(dh.engine.getHistory(id).map((e) => e.EventType)).toContain(EventType.TaskCompleted);
      // It can still be terminated, as on Azure.
      await dh.client.terminate(id, 'stuck');
      expect((await dh.engine.waitFor(id)).runtimeStatus).toBe('Terminated');
    },
  );

  it('when an orchestrator throws an object with a message, then it fails with that message', async () => {
    const { output, runtimeStatus } = await run('throwsWithoutMessage', 'object');
    expect(runtimeStatus).toBe('Failed');
    expect(output).toBe("Orchestrator function 'throwsWithoutMessage' failed: an object with a message");
  });
});

describe('fidelity: the checks Azure makes', () => {
  it.each([
    ['@entity-like', "instanceId (Parameter 'Orchestration instance ids must not start with @.')"],
    ['a%2Fb', "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')"],
    ['a%23b', "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')"],
    ['a%3Fb', "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')"],
    ['a%01b', "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')"],
    ['x'.repeat(257), 'Instance ID lengths must not exceed 256 characters.'],
  ])('when an instance id like %s is started, then 400 with the extension\'s argument error', async (id, reason) => {
    const res = await post(dh.durableUrl(`orchestrators/sayHelloWithActivity/${id}`), 'x');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ Message: 'One or more of the arguments submitted is incorrect', ExceptionMessage: reason });
  });

  it('when an id of exactly 256 characters is started, then it is accepted', async () => {
    const id = 'y'.repeat(256);
    expect(await dh.client.startNew('sayHelloWithActivity', { instanceId: id, input: 'z' })).toBe(id);
    await dh.engine.waitFor(id);
  });

  it('when the id of a running instance is started again, then 500 with DTFx\'s OrchestrationAlreadyExistsException message', async () => {
    const id = `busy-${Date.now()}`;
    await dh.client.startNew('approvalWithTimeout', { instanceId: id, input: 60_000 });
    await until('running', () => dh.engine.getInstance(id)?.runtimeStatus === 'Running');
    const again = await post(dh.durableUrl(`orchestrators/approvalWithTimeout/${id}`), 60_000);
    expect(again.status).toBe(500);
    expect(await again.json()).toEqual({
      Message: 'Something went wrong while processing your request',
      ExceptionMessage: 'An Orchestration instance with the status Running already exists.',
    });
    await dh.client.terminate(id, 'done');
  });

  it('when a running instance is resumed or a suspended one suspended again, then 500 with DurableClient\'s InvalidOperationException', async () => {
    const id = await dh.client.startNew('approvalWithTimeout', { input: 60_000 });
    await until('running', () => dh.engine.getInstance(id)?.runtimeStatus === 'Running');
    const resumeRunning = await post(dh.durableUrl(`instances/${id}/resume`));
    expect(resumeRunning.status).toBe(500);
    expect(((await resumeRunning.json()) as { ExceptionMessage: string }).ExceptionMessage).toBe(
      `Cannot resume the orchestration instance ${id} because instance is in the Running state.`,
    );
    await dh.client.suspend(id, 'hold');
    await until('suspended', () => dh.engine.getInstance(id)?.runtimeStatus === 'Suspended');
    const suspendAgain = await post(dh.durableUrl(`instances/${id}/suspend`));
    expect(suspendAgain.status).toBe(500);
    expect(((await suspendAgain.json()) as { ExceptionMessage: string }).ExceptionMessage).toBe(
      `Cannot suspend the orchestration instance ${id} because instance is in the Suspended state.`,
    );
    await expect(dh.client.suspend(id, 'again')).rejects.toThrow(/500/);
    await dh.client.resume(id, 'go');
    await dh.client.terminate(id, 'done');
  });

  it('when instances are listed by runtimeStatus, then names match case-sensitively (Enum.TryParse) and numbers are accepted', async () => {
    const prefix = `filter-${Date.now()}`;
    await dh.client.startNew('sayHelloWithActivity', { instanceId: `${prefix}-a`, input: 'a' });
    await dh.engine.waitFor(`${prefix}-a`);
    const list = async (statuses: string) => {
      const res = await fetch(dh.durableUrl(`instances/?instanceIdPrefix=${prefix}&runtimeStatus=${statuses}`));
      return ((await res.json()) as Array<{ instanceId: string }>).map((i) => i.instanceId);
    };
    expect(await list('Completed')).toEqual([`${prefix}-a`]);
    expect(await list('1')).toEqual([`${prefix}-a`]); // OrchestrationRuntimeStatus.Completed = 1
    expect(await list('Running')).toEqual([]);
    // 'completed' does not parse, so it is no filter at all (as on Azure): the instance is listed.
    expect(await list('completed,Running')).toEqual([]);
    expect(await list('completed')).toEqual([`${prefix}-a`]);
  });
});

describe('fidelity: the custom status is capped at 16 KB of UTF-16 JSON, as on Azure', () => {
  const tooLarge = 'The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 17 KB.';
  const scheduled = (id: string) =>
    dh.engine
      .getHistory(id)
      .filter((e) => e.EventType === EventType.TaskScheduled)
      .map((e) => e.Input);

  it('when the status JSON is 8,703 UTF-16 units (16.99 KB), then it is kept and the orchestration completes', async () => {
    const { id, output, runtimeStatus } = await run('customStatusOfSize', { units: 8703 });
    expect(runtimeStatus).toBe('Completed');
    expect(output).toBe(9);
    const status = await rawStatus(id);
    expect((status.body.customStatus as string).length).toBe(8701);
  });

  it('when the status JSON reaches 8,704 units (17 KB), then the orchestration fails with the extension\'s ArgumentException, schedules nothing more and shows a null status', async () => {
    const { id, output, runtimeStatus } = await run('customStatusOfSize', { units: 8704 });
    expect(runtimeStatus).toBe('Failed');
    expect(output).toBe(`Orchestrator function 'customStatusOfSize' failed: ${tooLarge}`);
    expect(scheduled(id)).toEqual(['2']);
    const status = await rawStatus(id);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ runtimeStatus: 'Failed', customStatus: null, output: `Orchestrator function 'customStatusOfSize' failed: ${tooLarge}` });
    expect(dh.lines.some((l) => l.includes(`customStatusOfSize ${id}: Running -> Failed`) && l.includes('must not exceed 16 KB'))).toBe(true);
  });

  it('when the status is counted, then characters outside the BMP count twice (UTF-16), so 4,351 emoji fail', async () => {
    // 4,351 emoji are 8,702 UTF-16 units plus the quotes: 8,704 units, 17,408 bytes.
    const { output, runtimeStatus } = await run('customStatusOfSize', { units: 8704, char: '\u{1F600}' });
    expect(runtimeStatus).toBe('Failed');
    expect(output).toBe(`Orchestrator function 'customStatusOfSize' failed: ${tooLarge}`);
  });

  it('when the orchestrator throws after setting a too-large status, then the status error wins, without the function prefix (it escapes the shim\'s catch block)', async () => {
    const { output, runtimeStatus } = await run('customStatusOfSize', { units: 9216 * 2, then: 'throw' });
    expect(runtimeStatus).toBe('Failed');
    expect(output).toBe('The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 36 KB.');
  });
});

describe('fidelity: large payloads are stored, not refused, as the Azure Storage backend does', () => {
  const warning = (id: string) => dh.lines.filter((l) => l.includes(id) && l.includes('limits a message to 1 MB'));

  it.each([[100], [1100]])(
    'when an activity input and output, an event payload and the orchestration input are %i KB, then the orchestration completes with them whole',
    async (kb) => {
      const id = await dh.client.startNew('largePayloads', { input: { kb, pad: 'i'.repeat(kb * 1024) } });
      await until('the event wait', () => dh.engine.getHistory(id).some((e) => e.EventType === EventType.TaskCompleted));
      await dh.client.raiseEvent(id, 'bulk', 'e'.repeat(kb * 1024));
      const done = await dh.engine.waitFor(id);
      expect(done.runtimeStatus).toBe('Completed');
      expect(JSON.parse(done.output!)).toEqual({ echoed: kb * 1024, event: kb * 1024 });
      const status = await rawStatus(id);
      expect((status.body.input as { pad: string }).pad).toHaveLength(kb * 1024);
      // Past 1 MB, each payload is named once in a warning (the Durable Task Scheduler's limit).
      if (kb < 1024) expect(warning(id)).toEqual([]);
      else {
        expect(warning(id).map((l) => /: (the .*?) is \d/.exec(l)?.[1])).toEqual([
          'the orchestration input',
          "the input of activity 'echoText'",
          "the output of activity 'echoText'",
          "the payload of event 'bulk'",
        ]);
      }
    },
  );
});

describe('fidelity: unsupported Durable features are clear and early', () => {
  it('when the app registers an entity, then the host says at start that entities are not supported', () => {
    expect(dh.host.unserved).toEqual([expect.stringMatching(/^counterEntity: durable entity NOT supported by devhost/)]);
    expect(dh.lines.some((l) => l.includes('counterEntity: durable entity NOT supported by devhost'))).toBe(true);
  });

  it('when an orchestration calls an entity, then it fails with a reason that names the missing feature', async () => {
    const { id, runtimeStatus } = await run('counterOrchestration');
    expect(runtimeStatus).toBe('Failed');
    expect(String((await dh.client.getStatus(id)).output)).toMatch(/devhost does not support CallEntity/);
  });

  it('when the client rewinds an instance or signals an entity, then it rejects with a readable message', async () => {
    const { id } = await run('counterOrchestration');
    await expect(dh.client.rewind(id, 'retry')).rejects.toThrow(/^devhost does not support the rewind operation/);
    await expect(dh.client.signalEntity(new df.EntityId('counterEntity', 'k'), 'add', 1)).rejects.toThrow(/devhost does not support Durable entities/);
  });
});
