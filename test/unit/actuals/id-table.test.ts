import { bucketOfHash, hashBytes, IdTable } from '../../../shared/domain/id-table';
import type { RawRows } from '../../../shared/domain/raw-rows';
import { idCells } from '../../../shared/usecases/actuals/ids';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('IdTable', () => {
  it('when many ids are added, then each keeps the index it got first and is found by its bytes, also inside a larger buffer', () => {
    const table = new IdTable();
    for (let i = 0; i < 50_000; i += 1) {
      const b = bytes(`id-${i}`);
      expect(table.add(b, 0, b.length, hashBytes(b, 0, b.length))).toBe(i);
    }
    const again = bytes('id-123');
    expect(table.add(again, 0, again.length, hashBytes(again, 0, again.length))).toBe(123);
    expect(table.size).toBe(50_000);
    const inside = bytes('xxid-49999yy');
    expect(table.find(inside, 2, 8, hashBytes(inside, 2, 8))).toBe(49_999);
    expect(table.text(49_999)).toBe('id-49999');
    const missing = bytes('id-50000');
    expect(table.find(missing, 0, missing.length, hashBytes(missing, 0, missing.length))).toBe(-1);
  });

  it('when every id comes from one bucket (hashes share their high bits), then each is found and ids never added are not', () => {
    const table = new IdTable(16);
    const inBucket = (prefix: string) =>
      Array.from({ length: 60_000 }, (_, i) => bytes(`${prefix}${i}`)).filter((b) => bucketOfHash(hashBytes(b, 0, b.length), 4) === 3);
    const added = inBucket('kept-');
    for (const b of added) table.add(b, 0, b.length, hashBytes(b, 0, b.length));
    expect(added.every((b, i) => table.find(b, 0, b.length, hashBytes(b, 0, b.length)) === i)).toBe(true);
    const absent = inBucket('other-');
    expect(absent.length).toBeGreaterThan(10_000);
    expect(absent.filter((b) => table.find(b, 0, b.length, hashBytes(b, 0, b.length)) !== -1)).toEqual([]);
  });

  it('when two ids share a hash, then they are still told apart by their bytes', () => {
    const table = new IdTable();
    const a = bytes('alpha');
    const b = bytes('beta');
    expect(table.add(a, 0, a.length, 7)).toBe(0);
    expect(table.add(b, 0, b.length, 7)).toBe(1);
    expect(table.find(b, 0, b.length, 7)).toBe(1);
    expect(table.find(bytes('gamma'), 0, 5, 7)).toBe(-1);
  });

  it('when a reader gives ids only as text, then they become the same UTF-8 byte ranges (empty cells -1), and buckets split the hash range evenly', () => {
    const texts = ['Zürich-∑', null, 'r1'];
    const rows = { rowCount: texts.length, text: (_c: number, r: number) => texts[r] ?? null } as unknown as RawRows;
    const cells = idCells(rows, 0);
    expect(Array.from(cells.lengths)).toEqual([bytes('Zürich-∑').length, -1, 2]);
    const direct = bytes('Zürich-∑');
    expect(hashBytes(cells.bytes, cells.starts[0]!, cells.lengths[0]!)).toBe(hashBytes(direct, 0, direct.length));
    expect(new TextDecoder().decode(cells.bytes.subarray(cells.starts[2], cells.starts[2]! + 2))).toBe('r1');
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 40_000; i += 1) {
      const b = bytes(`c${i}`);
      counts[bucketOfHash(hashBytes(b, 0, b.length), 4)]! += 1;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(bucketOfHash(0xffffffff, 4)).toBe(3);
  });
});
