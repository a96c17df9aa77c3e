import {
  assertParity,
  checkTransformParity,
  compareModelOutputs,
  type GoldenRecord,
  goldenRecordsSchema,
  PARITY_TOLERANCE,
  rowsToBatch,
  withinTolerance,
} from '../../../shared/domain/parity';
import { fitTransforms } from '../../../shared/domain/transforms';
import type { Feature } from '../../../shared/schemas/model';
import { aBatch } from './builders';

const fitted = fitTransforms(
  {
    specVersion: 1,
    steps: [
      { type: 'impute', columns: ['age'], strategy: 'constant', fillValue: 30 },
      { type: 'standardize', columns: ['age'], outputs: ['age_z'] },
      { type: 'one_hot', column: 'city', unseen: 'error' },
      { type: 'datetime_parts', column: 'ts', parts: ['hour'] },
    ],
    output: ['age_z', 'city_Oslo', 'city_Rome', 'ts_hour', 'member'],
  },
  // age mean 30, population std 10
  aBatch({ age: [20, 40], city: ['Oslo', 'Rome'], ts: [0, 0], member: [0, 1] }),
);

const golden: GoldenRecord[] = goldenRecordsSchema.parse([
  {
    input: { age: 45, city: 'Rome', ts: '2024-05-01T13:15:00Z', member: true },
    expectedFeatures: [1.5, 0, 1, 13, 1],
  },
  {
    input: { age: null, city: 'Oslo', ts: 1_700_000_000_000, member: false },
    expectedFeatures: [0, 1, 0, 22, 0],
  },
]);

describe('transform parity', () => {
  it('when the transforms reproduce the golden vectors, then parity holds', () => {
    const result = checkTransformParity(fitted, golden);
    expect(result).toEqual({ ok: true, mismatches: [] });
    expect(() => assertParity(result, 'transforms')).not.toThrow();
  });

  it('when a value differs beyond tolerance, then the mismatch names record, index and feature', () => {
    const drifted = golden.map((g, i) => (i === 1 ? { ...g, expectedFeatures: [0, 1, 0, 22, 0.001] } : g));
    const result = checkTransformParity(fitted, drifted);
    expect(result.ok).toBe(false);
    expect(result.mismatches).toEqual([
      expect.objectContaining({ record: 1, index: 4, feature: 'member', expected: 0.001, actual: 0 }),
    ]);
    expect(() => assertParity(result, 'transforms')).toThrow(
      expect.objectContaining({
        code: 'PARITY_MISMATCH',
        message:
          "transforms parity failed: golden record 1, feature 'member' (index 4): expected 0.001, transforms give 0",
      }),
    );
  });

  it('when a golden record is rejected by the transforms, then that is a mismatch with the reason', () => {
    const unseen = [golden[0]!, { ...golden[1]!, input: { ...golden[1]!.input, city: 'Paris' } }];
    const result = checkTransformParity(fitted, unseen);
    expect(result.mismatches).toEqual([
      expect.objectContaining({
        record: 1,
        index: null,
        message: expect.stringMatching(/rejected.*unseen category "Paris"/),
      }),
    ]);
  });

  it('when the expected vector has the wrong length, then the mismatch says so', () => {
    const result = checkTransformParity(fitted, [{ ...golden[0]!, expectedFeatures: [1.5, 0, 1] }]);
    expect(result.mismatches[0]!.message).toMatch(/has 3 expected features, the transforms produce 5/);
  });

  it('when values differ by less than 1e-6 relative, or 1e-7 absolute near zero, then they match', () => {
    expect(PARITY_TOLERANCE).toEqual({ relative: 1e-6, absolute: 1e-7 });
    expect(withinTolerance(1000, 1000.0009)).toBe(true);
    expect(withinTolerance(1000, 1000.0011)).toBe(false);
    expect(withinTolerance(0, 9e-8)).toBe(true);
    expect(withinTolerance(0, 2e-7)).toBe(false);
    expect(withinTolerance(1e-3, 1e-3 + 5e-8)).toBe(true);
    expect(withinTolerance(1, NaN)).toBe(false);
  });
});

describe('model output parity', () => {
  it('when predictions and probabilities agree, then parity holds; records without expectations are skipped', () => {
    const result = compareModelOutputs(
      [{ prediction: 'yes', probabilities: [0.25, 0.75] }, undefined],
      [
        { prediction: 'yes', probabilities: [0.25000001, 0.74999999] },
        { prediction: 'no', probabilities: [0.9, 0.1] },
      ],
    );
    expect(result).toEqual({ ok: true, mismatches: [] });
  });

  it('when a probability or a regression value differs, then the mismatch names it', () => {
    const result = compareModelOutputs(
      [{ prediction: 1.5 }, { prediction: 'yes', probabilities: [0.25, 0.75] }],
      [{ prediction: 1.6 }, { prediction: 'yes', probabilities: [0.3, 0.7] }],
    );
    expect(result.mismatches.map((m) => [m.record, m.feature])).toEqual([
      [0, 'prediction'],
      [1, 'probability[0]'],
      [1, 'probability[1]'],
    ]);
    expect(() => assertParity(result, 'model outputs')).toThrow(
      /model outputs parity failed: golden record 0: expected prediction 1.5, the model gives 1.6 \(and 2 more mismatches\)/,
    );
  });

  it('when the model returns fewer records or class probabilities than expected, then that is a mismatch', () => {
    expect(compareModelOutputs([{ prediction: 1 }, { prediction: 2 }], [{ prediction: 1 }]).ok).toBe(false);
    const result = compareModelOutputs(
      [{ prediction: 'a', probabilities: [0.5, 0.5] }],
      [{ prediction: 'a' }],
    );
    expect(result.mismatches[0]!.message).toMatch(/expected 2 class probabilities, the model gives 0/);
  });
});

describe('rowsToBatch', () => {
  const features: Feature[] = [
    { name: 'age', type: 'numeric', nullable: true, strictRange: false },
    { name: 'city', type: 'categorical', nullable: false, strictValues: false },
    { name: 'member', type: 'boolean', nullable: false },
    { name: 'ts', type: 'datetime', nullable: false },
  ];

  it('when rows are plain objects, then columns are typed by the feature schema', () => {
    const batch = rowsToBatch(features, [
      { age: 31, city: 'Oslo', member: true, ts: '2024-01-02T03:04:05Z', extra: 'ignored' },
      { city: null, member: false, ts: '2024-01-02T03:04:05' },
    ]);
    expect(batch.rowCount).toBe(2);
    expect(Array.from(batch.numeric.age!)).toEqual([31, NaN]);
    expect(batch.categorical.city).toEqual(['Oslo', null]);
    expect(Array.from(batch.numeric.member!)).toEqual([1, 0]);
    // A datetime without offset is read as UTC.
    expect(Array.from(batch.numeric.ts!)).toEqual([
      Date.UTC(2024, 0, 2, 3, 4, 5),
      Date.UTC(2024, 0, 2, 3, 4, 5),
    ]);
    expect(Object.keys(batch.numeric)).not.toContain('extra');
  });

  it.each([
    [{ age: 'old' }, /row 0, column 'age': "old" is not a number/],
    [{ city: 3 }, /column 'city': 3 is not a string/],
    [{ member: 2 }, /column 'member': 2 is not true, false, 0 or 1/],
    [{ ts: 'yesterday' }, /column 'ts': "yesterday" is not an ISO 8601 datetime/],
    [{ ts: true }, /column 'ts': true is not an ISO 8601 datetime/],
  ])('when a cell is %j, then a VALIDATION_ERROR names row and column', (row, message) => {
    expect(() => rowsToBatch(features, [row])).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    expect(() => rowsToBatch(features, [row])).toThrow(message);
  });

  it('when a column is called __proto__, then it is an ordinary column', () => {
    const batch = rowsToBatch(
      [{ name: '__proto__', type: 'numeric', nullable: false, strictRange: false }],
      [JSON.parse('{"__proto__": 5}') as Record<string, unknown>],
    );
    expect(Array.from(batch.numeric['__proto__']!)).toEqual([5]);
  });
});
