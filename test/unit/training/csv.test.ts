import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { csvText } from '../../../shared/domain/training/csv';
import { MemoryLake } from '../../support/memory-lake';

describe('the training snapshot CSV', () => {
  it('when cells hold commas, quotes, line breaks, spaces or nothing, then the product reader reads back exactly them', async () => {
    const rows = [
      ['a', 'plain', '1.5'],
      ['b', 'north, upper', '-2e-7'],
      ['c', 'say "hi"', '0'],
      ['d', 'two\nlines', null],
      ['e', ' padded ', '3'],
    ];
    const lake = new MemoryLake();
    await lake.write('datasets/m/snapshot.csv', Buffer.from(csvText(['id', 'label', 'value'], rows)));
    const files = new LakeTabularFiles(lake);
    const plan = await files.plan('datasets/m/snapshot.csv', { targetChunkBytes: 1 << 20, targetChunkRows: 1000 });
    const read: (string | null)[][] = [];
    for (const chunk of plan.chunks) {
      for await (const raw of (await files.open('datasets/m/snapshot.csv', chunk)).batches) {
        for (let r = 0; r < raw.rowCount; r += 1) read.push([0, 1, 2].map((c) => raw.text(c, r)));
      }
    }
    expect(plan.columns).toEqual(['id', 'label', 'value']);
    expect(read).toEqual(rows);
  });
});
