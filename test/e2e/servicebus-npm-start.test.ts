import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { ServiceBusClient } from '@azure/service-bus';

import { brokerConfig, receiveAtLeast } from '../support/servicebus';

const root = path.join(__dirname, '..', '..');

/**
 * `npm start` (devhost/start.ts) with the Service Bus test app: the broker starts with devhost, the
 * triggers are served, and an HTTP call travels HTTP -> Service Bus output -> queue trigger ->
 * Service Bus output -> results queue.
 */
describe('npm start with Service Bus', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-start-'));
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify(
        brokerConfig({ requests: {}, results: {}, poison: { MaxDeliveryCount: 3 }, bulk: {} }, [
          { Name: 'events', Subscriptions: [{ Name: 'all' }, { Name: 'alerts' }] },
        ]),
      ),
    );
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when devhost starts, then it runs the broker, serves the Service Bus triggers and chains HTTP through Service Bus', async () => {
    child = spawn(
      process.execPath,
      [
        '-r',
        path.join(root, 'test/support/register-ts.js'),
        path.join(root, 'devhost/start.ts'),
        '--app',
        path.join(root, 'test/servicebus-app'),
        '--free-ports',
        '--port',
        '0',
        '--data',
        path.join(dir, 'data'),
        '--servicebus-config',
        path.join(dir, 'config.json'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SERVICEBUS_CONNECTION_STRING: '' } },
    );
    const output: string[] = [];
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const ready = await new Promise<string>((resolve, reject) => {
      const lines = readline.createInterface({ input: child!.stdout! });
      lines.on('line', (line) => {
        output.push(line);
        if (line.startsWith('devhost ready')) resolve(line);
      });
      child!.once('exit', (code) => reject(new Error(`devhost exited with ${code}:\n${output.join('\n')}`)));
    });
    const origin = /(http:\/\/127\.0\.0\.1:\d+)/.exec(ready)![1]!;
    const connectionString = output.find((l) => l.startsWith('servicebus '))!.replace(/^servicebus\s+/, '');
    expect(connectionString).toMatch(/^Endpoint=sb:\/\/127\.0\.0\.1:\d+;.*UseDevelopmentEmulator=true;$/);
    expect(output).toContain('  scoreRequest: serviceBusTrigger requests (one)');
    expect(output).toContain('  scoreBatch: serviceBusTrigger bulk (many)');

    const response = await fetch(`${origin}/api/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'via-npm-start', x: 4 }),
    });
    expect(response.status).toBe(202);
    const client = new ServiceBusClient(connectionString);
    try {
      const [result] = await receiveAtLeast(
        client.createReceiver('results', { receiveMode: 'receiveAndDelete' }),
        1,
        15_000,
      );
      expect(result!.body).toEqual({ id: 'via-npm-start', score: 8 });
    } finally {
      await client.close();
    }
  }, 60_000);

  it('when one Ctrl-C reaches devhost twice at once (the terminal\'s SIGINT and npm forwarding it), then devhost still stops cleanly', async () => {
    const running = child!;
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
    // npm sends its copy a moment after the terminal's: once devhost has taken the first one.
    const stopping = new Promise<void>((resolve) =>
      readline.createInterface({ input: running.stdout! }).on('line', (line) => {
        lines.push(line);
        if (line === '[devhost] SIGINT: stopping...') resolve();
      }),
    );
    running.kill('SIGINT');
    await stopping;
    running.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(lines).toContain('[devhost] stopped');
    expect(lines.some((l) => l.includes('exiting now'))).toBe(false);
  }, 60_000);
});
