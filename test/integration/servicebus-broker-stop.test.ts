/**
 * A stopped broker lets its process exit: the server side of each AMQP connection is torn down
 * with the socket, so no heartbeat timer keeps writing to a dead socket (and keeps Node, or a
 * test run, alive for ever) after `stop()` while clients were still connected.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

const SCRIPT = `
const { ServiceBusClient } = require('@azure/service-bus');
const { startServiceBusBroker } = require(${JSON.stringify(path.join(root, 'devhost/servicebus/broker.ts'))});
(async () => {
  const broker = await startServiceBusBroker({ log: () => undefined });
  const client = new ServiceBusClient(broker.connectionString);
  const sender = client.createSender('retraining-requests');
  await sender.sendMessages({ body: 'hello' });
  const receiver = client.createReceiver('retraining-requests');
  const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
  await receiver.completeMessage(message);
  await broker.stop();
  console.log('stopped');
  // Not awaited: with the broker gone the close handshake never completes (nor holds the process).
  void client.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;

it('when the broker stops while a client is connected, then the process exits on its own', async () => {
  const child = spawn(
    process.execPath,
    ['-r', path.join(root, 'test/support/register-ts.js'), '-e', SCRIPT],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  // rhea's heartbeat is half the client's 60 s idle timeout: a leaked one would hold the process
  // for 30 s and more, well past this bound.
  const exit = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('still running after 20 s');
    }, 20_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code ?? 'killed');
    });
  });
  expect({ exit, output: output.trim() }).toEqual({ exit: 0, output: 'stopped' });
}, 30_000);
