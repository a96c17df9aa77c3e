import type { Server } from 'node:https';

import { createHttpsServer } from '@vercel/cosmosdb-server';

import { freePort } from './ports';

/** The key every local Cosmos client uses; the local server does not check it. */
export const LOCAL_COSMOS_KEY =
  'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface RunningCosmos {
  endpoint: string;
  key: string;
  port: number;
  server: Server;
  stop(): Promise<void>;
}

/**
 * Starts the Cosmos DB SQL API server in this process (HTTPS, self-signed certificate: clients set
 * COSMOS_ALLOW_INSECURE_TLS). Its state is in memory; devhost snapshots it to disk.
 */
export async function startCosmos(options: { port?: number } = {}): Promise<RunningCosmos> {
  const port = options.port ?? (await freePort());
  const server = createHttpsServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `https://127.0.0.1:${port}`,
    key: LOCAL_COSMOS_KEY,
    port,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
