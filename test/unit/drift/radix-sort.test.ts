import { radixSortFloat64, sortFiniteCopy } from '../../../shared/domain/drift/radix-sort';
import { seededRandom } from '../../../shared/domain/random';

describe('radix sort of Float64Array', () => {
  test('when values mix signs, zeros, infinities, ties and tiny magnitudes, then the order equals the built-in sort', () => {
    const random = seededRandom(7);
    const n = 50_000;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r = random.next();
      values[i] =
        r < 0.05 ? -0 : r < 0.1 ? 0 : r < 0.12 ? Infinity : r < 0.14 ? -Infinity : r < 0.3 ? Math.round(random.next() * 10) - 5 : (random.next() - 0.5) * 10 ** (random.int(40) - 20);
    }
    const expected = Float64Array.from(values).sort();
    const actual = radixSortFloat64(Float64Array.from(values));
    expect(Array.from(actual).map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(
      Array.from(expected).map((v) => Object.is(v, -0) ? '-0' : v),
    );
  });

  test('when every value is equal, then the array is unchanged', () => {
    const values = new Float64Array(5000).fill(3.25);
    expect(Array.from(radixSortFloat64(values)).every((v) => v === 3.25)).toBe(true);
  });
});

describe('sorted copy of the finite values', () => {
  test('when values include NaN and infinities, then the copy holds the finite ones in order and the input is untouched', () => {
    const random = seededRandom(11);
    const values = Float64Array.from({ length: 20_000 }, (_, i) =>
      i % 97 === 0 ? Number.NaN : i % 101 === 0 ? Infinity : i % 103 === 0 ? -Infinity : (random.next() - 0.3) * 1000,
    );
    const before = Float64Array.from(values);
    const expected = Float64Array.from(values.filter((v) => Number.isFinite(v))).sort();
    expect(Array.from(sortFiniteCopy(values))).toEqual(Array.from(expected));
    expect(Array.from(values)).toEqual(Array.from(before));
    expect(Array.from(sortFiniteCopy(Float64Array.from([3, Number.NaN, 1])))).toEqual([1, 3]);
  });

  test('when all values share their top bits so a pass is skipped, then the order is still right', () => {
    const random = seededRandom(12);
    const values = Float64Array.from({ length: 30_000 }, () => 1 + random.next() * 0.05);
    expect(Array.from(sortFiniteCopy(values))).toEqual(Array.from(Float64Array.from(values).sort()));
    const equal = new Float64Array(5000).fill(-2.5);
    expect(Array.from(sortFiniteCopy(equal)).every((v) => v === -2.5)).toBe(true);
  });
});
