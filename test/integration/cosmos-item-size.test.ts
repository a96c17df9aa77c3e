/**
 * Cosmos DB's own 413 (request entity too large) through the real SDK. The local server stores
 * documents of any size, so here it is put behind a gate that answers 413 as Azure does for bodies
 * over 1 MB: less than the adapters' own limit (MAX_DOCUMENT_BYTES), so the write reaches the
 * server and its refusal is what the adapters must report.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';

import { CosmosClient } from '@azure/cosmos';

import { type RunningCosmos,startCosmos } from '../../devhost/services/cosmos';
import type { CosmosContainers } from '../../shared/adapters/cosmos/client';
import { CosmosModelRegistry } from '../../shared/adapters/cosmos/model-registry';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { MAX_DOCUMENT_BYTES } from '../../shared/domain/document-size';
import { COSMOS_RESOURCES } from '../../shared/domain/resources';
import type { AuditEvent } from '../../shared/schemas/registry';
import { anActor, anInferenceRun } from '../support/builders';

const GATE_BYTES = 1024 * 1024;

let cosmos: RunningCosmos;
let client: CosmosClient;
let containers: Promise<CosmosContainers>;

beforeAll(async () => {
  cosmos = await startCosmos();
  const [serve] = cosmos.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  cosmos.server.removeAllListeners('request');
  cosmos.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > GATE_BYTES) {
      req.resume();
      res.writeHead(413, { 'content-type': 'application/json', 'x-ms-activity-id': '00000000-0000-0000-0000-000000000413' });
      res.end(JSON.stringify({ code: 'RequestEntityTooLarge', message: 'Request size is too large' }));
      return;
    }
    serve!(req, res);
  });
  client = new CosmosClient({
    endpoint: cosmos.endpoint,
    key: cosmos.key,
    connectionPolicy: { enableEndpointDiscovery: false },
    agent: new https.Agent({ rejectUnauthorized: false }),
  });
  containers = (async () => {
    const { database } = await client.databases.createIfNotExists({ id: 'item-size' });
    const entries = await Promise.all(
      COSMOS_RESOURCES.containers.map(async ({ name, partitionKey }) => {
        const { container } = await database.containers.createIfNotExists({ id: name, partitionKey: { paths: [partitionKey] } });
        return [name, container] as const;
      }),
    );
    return Object.fromEntries(entries) as CosmosContainers;
  })();
});

afterAll(async () => {
  client?.dispose();
  await cosmos?.stop();
});

describe('Cosmos DB answering 413', () => {
  it('when the server refuses a ledger entry or a run document as too large, then the adapters answer PAYLOAD_TOO_LARGE naming it, and smaller writes go through', async () => {
    const registry = new CosmosModelRegistry(() => containers);
    const entry: AuditEvent = {
      id: 'gate:v1:r1',
      kind: 'transition',
      modelName: 'gate',
      version: 1,
      revision: 1,
      command: 'fail_validation',
      from: 'validating',
      to: 'validation_failed',
      actor: anActor({ id: 'system:lifecycle', kind: 'system' }),
      at: '2026-03-01T00:00:00.000Z',
      reason: 'x'.repeat(GATE_BYTES + 1000),
    };
    expect(GATE_BYTES + 2000).toBeLessThan(MAX_DOCUMENT_BYTES);
    await expect(registry.appendAudit(entry)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringContaining("the ledger entry 'gate:v1:r1'"),
    });
    expect(await registry.hasAudit('gate', entry.id)).toBe(false);
    expect(await registry.appendAudit({ ...entry, reason: 'small' })).toBe(true);

    const runs = cosmosRunStore(() => containers).runs;
    const sources = Array.from({ length: 20_000 }, (_, i) => ({ path: `drops/gate/scheduled/f${i}.csv`, etag: '"0x1"', size: 10 }));
    await expect(runs.create('gate', 'big', anInferenceRun('gate', 'big', { sources }))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.stringContaining("the run document 'big' of 'gate'"),
    });
    expect(await runs.get('gate', 'big')).toBeUndefined();
  });
});
