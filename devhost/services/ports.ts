import net from 'node:net';

import { StartupError } from '../startup-error';

/** A free TCP port on loopback, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether something already holds 127.0.0.1:port (a listen there fails with EADDRINUSE). */
async function taken(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err)));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/**
 * Before anything starts: every fixed port the run will listen on must be free, else the start
 * stops with one message naming each taken port, what it was for and what to do (rather than the
 * first service's bare EADDRINUSE, after the others started).
 */
export async function ensurePortsFree(ports: ReadonlyArray<{ port: number; what: string; instead: string }>): Promise<void> {
  const busy: Array<{ port: number; what: string; instead: string }> = [];
  for (const p of ports) if (p.port !== 0 && (await taken(p.port))) busy.push(p);
  if (busy.length === 0) return;
  throw new StartupError(
    [
      `port${busy.length > 1 ? 's' : ''} already in use on 127.0.0.1: ${busy.map((p) => `${p.port} (${p.what})`).join(', ')}.`,
      'Another devhost (npm start, in this folder or another) may be running: stop it (Ctrl-C in its terminal), or move this one:',
      ...[...new Set(busy.map((p) => p.instead))].map((line) => `  ${line}`),
    ].join('\n'),
  );
}
