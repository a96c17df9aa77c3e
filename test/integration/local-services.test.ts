import https from 'node:https';

import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';

describe('local services started by global setup', () => {
  it('when a blob is uploaded to Azurite, then it can be read back', async () => {
    const service = BlobServiceClient.fromConnectionString(process.env.STORAGE_CONNECTION_STRING!);
    const container = service.getContainerClient('smoke');
    await container.createIfNotExists();
    await container.getBlockBlobClient('a.txt').upload('hello', 5);
    const body = await container.getBlobClient('a.txt').downloadToBuffer();
    expect(body.toString()).toBe('hello');
  });

  it('when a document is created in the Cosmos server, then a duplicate create answers 409', async () => {
    const client = new CosmosClient({
      endpoint: process.env.COSMOS_ENDPOINT!,
      key: process.env.COSMOS_KEY!,
      agent: new https.Agent({ rejectUnauthorized: false }),
      connectionPolicy: { enableEndpointDiscovery: false },
    });
    const { database } = await client.databases.createIfNotExists({ id: 'smoke' });
    const { container } = await database.containers.createIfNotExists({ id: 'c', partitionKey: '/pk' });
    await container.items.create({ id: '1', pk: 'a' });
    await expect(container.items.create({ id: '1', pk: 'a' })).rejects.toMatchObject({ code: 409 });
  });
});
