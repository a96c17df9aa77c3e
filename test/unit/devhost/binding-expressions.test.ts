import { resolveBindingExpression } from '../../../devhost/host/bindings/expressions';

describe('binding expressions', () => {
  it('when a path names binding data, then top-level, dotted and case-insensitive names resolve', () => {
    const data = { backupPath: 'a/b.txt', data: { Name: 'x' } };
    expect(resolveBindingExpression('backups/{backupPath}', data)).toBe('backups/a/b.txt');
    expect(resolveBindingExpression('c/{data.name}-{BACKUPPATH}', data)).toBe('c/x-a/b.txt');
  });

  it('when a path uses %settings% and system expressions, then they resolve from the environment and the clock', () => {
    const env = { OUT: 'outbox' };
    expect(resolveBindingExpression('%OUT%/{rand-guid}', {}, env)).toMatch(/^outbox\/[0-9a-f-]{36}$/);
    expect(resolveBindingExpression('{DateTime}', {}, env)).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    expect(resolveBindingExpression("logs/{datetime:yyyy/MM/dd}/x", {}, env)).toMatch(/^logs\/\d{4}\/\d\d\/\d\d\/x$/);
  });

  it('when a name has no value, then it fails with the WebJobs message', () => {
    expect(() => resolveBindingExpression('backups/{missing}', { other: 1 })).toThrow("No value for named parameter 'missing'.");
    expect(() => resolveBindingExpression('%NOT_SET_ANYWHERE%', {}, {})).toThrow(/NOT_SET_ANYWHERE/);
  });
});
