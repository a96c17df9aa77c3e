import { hyparquet } from '../../../shared/adapters/tabular/hyparquet';
import { snappyCompress } from '../../../shared/adapters/tabular/snappy';
import { seededRandom } from '../../../shared/domain/random';

const roundTrip = (input: Uint8Array) => {
  const compressed = snappyCompress(input).slice();
  const output = new Uint8Array(input.length);
  hyparquet.snappyUncompress(compressed, output);
  return { compressed, output };
};

describe('snappyCompress', () => {
  const random = seededRandom(5);
  const bytes = (n: number, alphabet: number) => Uint8Array.from({ length: n }, () => Math.floor(random.next() * alphabet));

  it('when inputs of every size and redundancy are compressed, then the reference decoder restores them exactly', () => {
    const inputs = [new Uint8Array(0), new Uint8Array(200_000), ...Array.from({ length: 40 }, (_, n) => bytes(n, 2))];
    for (const alphabet of [2, 3, 16, 256]) for (const n of [15, 16, 1_000, 65_535, 65_536, 65_537, 250_000]) inputs.push(bytes(n, alphabet));
    for (const input of inputs) expect(Buffer.from(roundTrip(input).output).equals(Buffer.from(input))).toBe(true);
  });

  it('when the input repeats, then the output is much smaller, and the same input gives the same bytes', () => {
    const text = Buffer.from(Array.from({ length: 5_000 }, (_, i) => `row-${i % 50}`).join(','));
    const { compressed } = roundTrip(text);
    expect(compressed.length).toBeLessThan(text.length / 10);
    expect(Buffer.from(snappyCompress(text)).equals(Buffer.from(compressed))).toBe(true);
  });
});
