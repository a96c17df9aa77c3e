import { lakeFailureMessage } from '../../../cli/lake';
import { errors } from '../../../shared/domain/errors';

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
});
