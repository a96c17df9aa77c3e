import net from 'node:net';

import { lakeCommand, lakeFailureMessage } from '../../../cli/lake';
import { errors } from '../../../shared/domain/errors';

/** A local port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('what mlops lake prints when it fails', () => {
  it('when the storage address refuses the connection, then the message says to start devhost or use the connection string it prints for --free-ports', () => {
    // As the storage SDK reports it (a RestError with the socket's code).
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10000'), { code: 'ECONNREFUSED' });
    const message = lakeFailureMessage(refused);
    expect(message.split('\n')[0]).toBe('connect ECONNREFUSED 127.0.0.1:10000');
    expect(message).toContain('is devhost (npm start) running?');
    expect(message).toContain("export the STORAGE_CONNECTION_STRING devhost prints at start (the 'mlops lake' line)");
  });

  it('when the failure is another one, then it is printed as it was, a domain error with its code', () => {
    expect(lakeFailureMessage(new Error('socket hang up'))).toBe('socket hang up');
    expect(lakeFailureMessage(errors.notFound("'nope/x' does not exist in the data lake"))).toBe("NOT_FOUND: 'nope/x' does not exist in the data lake");
  });

  it('when the command runs against a closed port, then it fails within a few seconds (not after the SDK default ~16 s of retries) with that message', async () => {
    const port = await closedPort();
    const earlier = process.env.STORAGE_CONNECTION_STRING;
    // Azurite's published development account; nothing answers at this address anyway.
    process.env.STORAGE_CONNECTION_STRING =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
      'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
      `BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
    const printed: string[] = [];
    const stderr = jest.spyOn(console, 'error').mockImplementation((line: string) => printed.push(line));
    try {
      const started = Date.now();
      expect(await lakeCommand.run(['ls'])).toBe(1);
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      stderr.mockRestore();
      if (earlier === undefined) delete process.env.STORAGE_CONNECTION_STRING;
      else process.env.STORAGE_CONNECTION_STRING = earlier;
    }
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(new RegExp(`^connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\n`));
    expect(printed[0]).toContain('is devhost (npm start) running?');
  }, 30_000);
});
