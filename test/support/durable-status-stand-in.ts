/**
 * A stand-in for the Durable extension's management API, as far as status reads go, for handler
 * tests that give the real DurableClient (bound through devhost's worker with `durableClientPayload`)
 * something to talk to: `GET .../instances/{id}` answers the status set for the id as the extension
 * does (202 while it runs, 200 once it ended), 404 for an id with none, 503 for an id marked down.
 * Every status asked for is recorded in `asked`.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type DurableClientPayload, durableClientPayload } from '../../devhost/durable/client-payload';

export interface StandInStatus {
  runtimeStatus: 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'Suspended';
  customStatus?: unknown;
}

export interface DurableStatusStandIn {
  /** The `durableClient` binding value pointing at the stand-in. */
  payload: DurableClientPayload;
  statuses: Map<string, StandInStatus>;
  /** Instance ids whose status the host fails to read (503). */
  down: Set<string>;
  /** Instance ids asked for, in order. */
  asked: string[];
  close(): Promise<void>;
}

/** Starts the stand-in on a free port; sets WEBSITE_HOSTNAME (as devhost does) until it closes, or the SDK rewrites the URLs to localhost:7071. */
export async function startDurableStatusStandIn(): Promise<DurableStatusStandIn> {
  const statuses = new Map<string, StandInStatus>();
  const down = new Set<string>();
  const asked: string[] = [];
  const answer = (res: ServerResponse, instanceId: string) => {
    asked.push(instanceId);
    if (down.has(instanceId)) return void res.writeHead(503).end();
    const status = statuses.get(instanceId);
    if (!status) return void res.writeHead(404).end();
    const at = '2026-06-01T00:00:00Z';
    const running = ['Pending', 'Running', 'Suspended'].includes(status.runtimeStatus);
    res.writeHead(running ? 202 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: 'modelLifecycle', instanceId, runtimeStatus: status.runtimeStatus, input: null, customStatus: status.customStatus ?? null, output: null, createdTime: at, lastUpdatedTime: at }));
  };
  const server = createServer((req, res) => {
    const status = req.method === 'GET' ? /\/instances\/([^/?]+)(?:\?|$)/.exec(req.url ?? '') : null;
    req.resume();
    req.on('end', () => (status ? answer(res, decodeURIComponent(status[1]!)) : res.writeHead(400).end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const hostname = process.env.WEBSITE_HOSTNAME;
  process.env.WEBSITE_HOSTNAME = origin.slice('http://'.length);
  return {
    payload: durableClientPayload({ origin, taskHubName: 'StandIn', systemKey: 'system-key' }),
    statuses,
    down,
    asked,
    close: async () => {
      if (hostname === undefined) delete process.env.WEBSITE_HOSTNAME;
      else process.env.WEBSITE_HOSTNAME = hostname;
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The status of a lifecycle waiting for a decision until `approvalDeadline`, as the lifecycle sets it. */
export const waitingLifecycle = (approvalDeadline: string): StandInStatus => ({ runtimeStatus: 'Running', customStatus: { step: 'pending_approval', state: 'pending_approval', approvalDeadline } });
