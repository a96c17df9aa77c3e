import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { ServiceBusClient } from '@azure/service-bus';

import { freePort } from '../../devhost/services/ports';
import { brokerConfig, receiveAll, receiveAtLeast, sleep } from '../support/servicebus';

const root = path.join(__dirname, '..', '..');

interface Child {
  process: ChildProcess;
  connectionString: string;
}

/** Runs the broker as its own process so that it can be killed with SIGKILL. */
async function startBrokerProcess(port: number, configPath: string, dataDir: string): Promise<Child> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.join(root, 'test/support/register-ts.js'),
      path.join(root, 'devhost/servicebus/main.ts'),
      '--port',
      String(port),
      '--config',
      configPath,
      '--data',
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
  });
  const { connectionString } = JSON.parse(line) as { connectionString: string };
  return { process: child, connectionString };
}

async function kill(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGKILL');
  await exited;
}

describe('broker restart', () => {
  let dataDir: string;
  let configPath: string;
  const children: Child[] = [];

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-restart-'));
    configPath = path.join(dataDir, 'config.json');
    fs.writeFileSync(
      configPath,
      JSON.stringify(
        brokerConfig({ jobs: { LockDuration: 'PT30S' }, 'side-cases': { MaxDeliveryCount: 3 } }, [
          { Name: 'fanout', Subscriptions: [{ Name: 's1' }, { Name: 's2' }] },
        ]),
      ),
    );
  });

  afterAll(async () => {
    for (const child of children) await kill(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('when the broker is killed with SIGKILL mid-stream and restarted, then no message that was not completed is lost', async () => {
    const port = await freePort();
    const first = await startBrokerProcess(port, configPath, path.join(dataDir, 'store'));
    children.push(first);
    let client = new ServiceBusClient(first.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 3000 },
    });

    // Messages in every state the store must keep: deferred, dead-lettered, scheduled, fanned out, locked.
    const side = client.createSender('side-cases');
    await side.sendMessages([
      { body: 'defer me', messageId: 'deferred' },
      { body: 'kill me', messageId: 'dead' },
    ]);
    const sideReceiver = client.createReceiver('side-cases');
    const [toDefer, toKill] = await receiveAtLeast(sideReceiver, 2);
    await sideReceiver.deferMessage(toDefer!);
    await sideReceiver.deadLetterMessage(toKill!, {
      deadLetterReason: 'Test',
      deadLetterErrorDescription: 'kept',
    });
    const scheduledFor = new Date(Date.now() + 4000);
    await side.scheduleMessages({ body: 'scheduled', messageId: 'scheduled' }, scheduledFor);
    await client.createSender('fanout').sendMessages({ body: 'to both', messageId: 'fan' });

    // A stream: one loop sends, another receives and completes; the broker dies in the middle.
    const acknowledged = new Set<string>();
    const completed = new Set<string>();
    let running = true;
    const sender = client.createSender('jobs');
    const sending = (async () => {
      for (let i = 0; running; i++) {
        try {
          await sender.sendMessages({ body: i, messageId: `job-${i}` });
          acknowledged.add(`job-${i}`);
        } catch {
          return;
        }
      }
    })();
    const receiver = client.createReceiver('jobs');
    const receiving = (async () => {
      while (running) {
        try {
          const batch = await receiver.receiveMessages(10, { maxWaitTimeInMs: 200 });
          for (const [n, message] of batch.entries()) {
            // Complete two out of three; leave the rest locked when the broker dies.
            if (n % 3 === 2) continue;
            await receiver.completeMessage(message);
            completed.add(String(message.messageId));
          }
        } catch {
          return;
        }
      }
    })();
    await sleep(1500);
    await kill(first);
    running = false;
    await Promise.allSettled([sending, receiving]);
    await client.close();
    expect(acknowledged.size).toBeGreaterThan(20);
    expect(completed.size).toBeGreaterThan(5);

    const second = await startBrokerProcess(port, configPath, path.join(dataDir, 'store'));
    children.push(second);
    client = new ServiceBusClient(second.connectionString);
    try {
      const drained = await receiveAll(client.createReceiver('jobs', { receiveMode: 'receiveAndDelete' }));
      const survivors = new Set(drained.map((m) => String(m.messageId)));
      const lost = [...acknowledged].filter((id) => !completed.has(id) && !survivors.has(id));
      expect(lost).toEqual([]);
      expect([...completed].filter((id) => survivors.has(id))).toEqual([]);

      const sideAfter = client.createReceiver('side-cases');
      const [deferred] = await sideAfter.receiveDeferredMessages(toDefer!.sequenceNumber!);
      expect(deferred).toMatchObject({ messageId: 'deferred', body: 'defer me' });
      await sideAfter.completeMessage(deferred!);
      const [dead] = await receiveAtLeast(
        client.createReceiver('side-cases', { subQueueType: 'deadLetter' }),
        1,
      );
      expect(dead).toMatchObject({
        messageId: 'dead',
        deadLetterReason: 'Test',
        deadLetterErrorDescription: 'kept',
      });
      for (const sub of ['s1', 's2']) {
        const copies = await receiveAll(
          client.createReceiver('fanout', sub, { receiveMode: 'receiveAndDelete' }),
        );
        expect(copies.map((m) => m.messageId)).toEqual(['fan']);
      }
      const [scheduled] = await receiveAtLeast(sideAfter, 1, 8000);
      expect(scheduled).toMatchObject({ messageId: 'scheduled' });
      expect(Date.now()).toBeGreaterThanOrEqual(scheduledFor.getTime());
    } finally {
      await client.close();
    }
  }, 60_000);
});
