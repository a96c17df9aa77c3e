import { balancedChunkBytes, LakeTabularFiles, planRowGroups } from '../../../shared/adapters/tabular/lake-tabular-files';
import { MemoryLake } from '../../support/memory-lake';

describe('balancedChunkBytes', () => {
  it('when a file spans 5 targets and 2 workers score it, then it is cut into 6 even ranges', () => {
    expect(balancedChunkBytes(160, 32, 2)).toBe(27);
  });

  it('when the nominal count already is a multiple, then the ranges are evened out without adding one', () => {
    expect(balancedChunkBytes(100, 30, 2)).toBe(25);
  });

  it('when a file fits in one target, then it stays one range', () => {
    expect(balancedChunkBytes(20, 32, 2)).toBe(32);
  });

  it('when no multiple is asked for, then the target is unchanged', () => {
    expect(balancedChunkBytes(160, 32)).toBe(32);
  });
});

describe('LakeTabularFiles.plan with chunkCountMultiple', () => {
  it('when a CSV is planned for 2 workers, then the chunk count is even, sizes are close and every row is covered once', async () => {
    const lake = new MemoryLake();
    const lines = ['id,x'];
    for (let i = 1; i <= 1000; i += 1) lines.push(`${i},${i * 0.5}`);
    const body = Buffer.from(lines.join('\n') + '\n');
    await lake.write('drops/a.csv', body);
    const files = new LakeTabularFiles(lake);
    const plan = await files.plan('drops/a.csv', { targetChunkBytes: Math.ceil(body.length / 4.5), targetChunkRows: 1, chunkCountMultiple: 2 });
    const chunks = plan.chunks.map((c) => (c.format === 'csv' && c.compression === 'none' ? c : undefined));
    expect(chunks).toHaveLength(6);
    const lengths = chunks.map((c) => c!.length);
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThan(body.length / 60);
    expect(chunks.reduce((n, c) => n + c!.rows, 0)).toBe(1000);
    chunks.forEach((c, i) => expect(c!.firstRow).toBe(i === 0 ? 1 : chunks[i - 1]!.firstRow + chunks[i - 1]!.rows));
  });
});

describe('planRowGroups with a chunk count multiple', () => {
  const bench = [122_940, 123_043, 124_351, 123_029, 124_345, 123_039, 123_037, 124_350, 11_866];
  const spans = (chunks: ReturnType<typeof planRowGroups>) => chunks.map((c) => (c.format === 'parquet' ? [c.rowGroupStart, c.rowGroupEnd, c.firstRow, c.rows] : []));

  it('when 9 row groups make 3 chunks of the target and 2 workers score them, then they become 4 chunks of about even rows', () => {
    expect(spans(planRowGroups(bench, 250_000))).toEqual([
      [0, 3, 1, 370_334],
      [3, 6, 370_335, 370_413],
      [6, 9, 740_748, 259_253],
    ]);
    expect(spans(planRowGroups(bench, 250_000, 2))).toEqual([
      [0, 2, 1, 245_983],
      [2, 4, 245_984, 247_380],
      [4, 6, 493_364, 247_384],
      [6, 9, 740_748, 259_253],
    ]);
  });

  it('when there are fewer row groups than the rounded count, or one chunk suffices, then each chunk keeps at least one group', () => {
    expect(spans(planRowGroups([10, 10, 10], 10, 4))).toEqual([
      [0, 1, 1, 10],
      [1, 2, 11, 10],
      [2, 3, 21, 10],
    ]);
    expect(spans(planRowGroups([5, 5], 100, 2))).toEqual([[0, 2, 1, 10]]);
  });
});
