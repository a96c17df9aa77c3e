import { balancedChunkBytes, LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
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
