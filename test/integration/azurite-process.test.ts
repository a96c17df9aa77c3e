import { startAzurite } from '../../devhost/services/azurite';

/** Resolves with what `p` gave, or with 'timed out' after `ms`. */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref())]);

describe('Azurite as devhost runs it', () => {
  it('when Azurite is killed while it runs, then it is reported and stopping it afterwards returns', async () => {
    const exits: string[] = [];
    const azurite = await startAzurite({ onUnexpectedExit: (how) => exits.push(how) });
    process.kill(azurite.pid!, 'SIGKILL');
    for (let i = 0; i < 50 && exits.length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));

    expect(exits).toEqual(['killed by SIGKILL']);
    await expect(within(azurite.stop(), 5000)).resolves.toBeUndefined();
  });

  it('when Azurite is stopped, then no unexpected end is reported', async () => {
    const exits: string[] = [];
    const azurite = await startAzurite({ onUnexpectedExit: (how) => exits.push(how) });
    await azurite.stop();

    expect(exits).toEqual([]);
  });
});
