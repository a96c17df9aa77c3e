import { AZURITE_STANDARD_PORTS, cliStorageSetting } from '../../../devhost/services/azurite';

const connectionString = (blobPort: number) => `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=k;BlobEndpoint=http://127.0.0.1:${blobPort}/devstoreaccount1;`;

describe('the storage setting devhost prints for mlops lake', () => {
  it('when Azurite is on its standard ports, then it is UseDevelopmentStorage=true', () => {
    expect(cliStorageSetting({ connectionString: connectionString(10000), ...AZURITE_STANDARD_PORTS })).toBe('UseDevelopmentStorage=true');
  });

  it('when Azurite is on free ports (--free-ports), then it is the connection string naming them, since UseDevelopmentStorage=true reaches port 10000', () => {
    const azurite = { connectionString: connectionString(44863), blobPort: 44863, queuePort: 39477, tablePort: 41967 };
    expect(cliStorageSetting(azurite)).toBe(azurite.connectionString);
  });
});
