/**
 * `mlops` itself: the command list, help and unknown commands, run as the real entry point in a
 * child process (cli/mlops.ts exits when its command is done).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

function mlops(...args: string[]): { code: number | null; out: string; err: string } {
  const child = spawnSync(process.execPath, ['-r', path.join(root, 'test/support/register-ts.js'), path.join(root, 'cli/mlops.ts'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: child.status, out: child.stdout, err: child.stderr };
}

describe('the mlops entry point', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])('when `mlops %j` runs, then the command list goes to stdout and it exits 0', (args) => {
    const result = mlops(...args);
    expect([result.code, result.err]).toEqual([0, '']);
    expect(result.out).toMatch(/^usage: mlops <command> \[args\]/);
    expect(result.out).toContain('\n  score      score a local CSV or Parquet file');
  });

  it('when `mlops help <command>` runs, then that command prints its usage and exits 0', () => {
    const result = mlops('help', 'fit');
    expect([result.code, result.err]).toEqual([0, '']);
    expect(result.out).toMatch(/^usage: mlops fit /);
  });

  it.each(['bogus', 'constructor', 'toString', '__proto__'])(
    'when the command %j is unknown, then one line names it, the list follows on stderr, and it exits 2',
    (name) => {
      const result = mlops(name);
      expect([result.code, result.out]).toEqual([2, '']);
      expect(result.err).toMatch(new RegExp(`^mlops: unknown command '${name}'\\n\\nusage: mlops <command>`));
    },
  );
});
