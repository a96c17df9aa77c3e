import { bucketOfHash, hashBytes, IdTable, Utf8Scratch } from '../../../shared/domain/id-table';

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

  it('when two ids share a hash, then they are still told apart by their bytes', () => {
    const table = new IdTable();
    const a = bytes('alpha');
    const b = bytes('beta');
    expect(table.add(a, 0, a.length, 7)).toBe(0);
    expect(table.add(b, 0, b.length, 7)).toBe(1);
    expect(table.find(b, 0, b.length, 7)).toBe(1);
    expect(table.find(bytes('gamma'), 0, 5, 7)).toBe(-1);
  });

  it('when text is hashed through the scratch encoder, then it hashes as its UTF-8 bytes, and buckets split the hash range evenly', () => {
    const scratch = new Utf8Scratch();
    const n = scratch.encode('Zürich-∑');
    const direct = bytes('Zürich-∑');
    expect(hashBytes(scratch.bytes, 0, n)).toBe(hashBytes(direct, 0, direct.length));
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 40_000; i += 1) {
      const b = bytes(`c${i}`);
      counts[bucketOfHash(hashBytes(b, 0, b.length), 4)]! += 1;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(bucketOfHash(0xffffffff, 4)).toBe(3);
  });
});
