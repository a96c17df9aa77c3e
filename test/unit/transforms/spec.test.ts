import {
  assertInputsMatchFeatures,
  fittedTransformsHash,
  fittedTransformsSchema,
  fitTransforms,
  parseTransformSpec,
  transformSpecHash,
  type TransformSpecInput,
  transformSpecSchema,
} from '../../../shared/domain/transforms';
import { aBatch } from './builders';

const spec: TransformSpecInput = {
  specVersion: 1,
  steps: [
    { type: 'impute', columns: ['x'], strategy: 'median' },
    { type: 'one_hot', column: 'c', unseen: 'other' },
    { type: 'derived', output: 'x2', expression: 'x * x' },
  ],
  output: ['x', 'x2', 'c_a'],
};

/** The same object with keys written in reverse order at every level. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  return value;
}

describe('transform spec schema', () => {
  it('when the spec version is not 1, then it is refused', () => {
    expect(transformSpecSchema.safeParse({ ...spec, specVersion: 2 }).success).toBe(false);
  });

  it('when a derived expression does not parse, then the issue points at it with the column', () => {
    const result = transformSpecSchema.safeParse({
      specVersion: 1,
      steps: [{ type: 'derived', output: 'd', expression: 'a + (b' }],
      output: ['d'],
    });
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path).toEqual(['steps', 0, 'expression']);
    expect(issue.message).toMatch(/at column 7/);
  });

  it.each([
    [{ type: 'standardize', columns: ['a', 'b'], outputs: ['z'] }, /needs 2 output name/],
    [{ type: 'impute', columns: ['a'], strategy: 'constant' }, /needs a fillValue/],
    [{ type: 'clip', columns: ['a'] }, /lower or an upper bound/],
    [{ type: 'clip', columns: ['a'], lower: 5, upper: 1 }, /lower bound is above/],
    [{ type: 'bucketize', column: 'a', edges: [1, 1] }, /strictly increasing/],
    [{ type: 'bucketize', column: 'a' }, /exactly one of edges or quantiles/],
    [{ type: 'pca', columns: ['a', 'b'], nComponents: 3 }, /exceeds the 2 input columns/],
    [{ type: 'one_hot', column: 'c', categories: ['x', 'x'] }, /distinct/],
    [{ type: 'datetime_parts', column: 't', parts: ['hour', 'hour'] }, /distinct/],
    [{ type: 'passthrough', columns: ['a', 'b'], outputs: ['a2'] }, /passthrough needs 2 output name/],
    [{ type: 'passthrough', columns: ['a', 'a'] }, /columns must be distinct/],
    [{ type: 'made_up', column: 't' }, /./],
  ])('when a step is %j, then the spec is refused with a clear issue', (step, message) => {
    const result = transformSpecSchema.safeParse({ specVersion: 1, steps: [step], output: ['a'] });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it('when a spec is invalid, then fitting and hashing fail with a VALIDATION_ERROR listing every issue', () => {
    const bad = { specVersion: 1, steps: [{ type: 'derived', output: 'd', expression: 'a +' }], output: [] };
    const expected = expect.objectContaining({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(
        /^invalid transform spec:\n.*\n\s+→ at output\n.*unexpected end of expression at column 4.*\n\s+→ at steps\[0\]\.expression/,
      ),
    });
    expect(() => parseTransformSpec(bad)).toThrow(expected);
    expect(() => fitTransforms(bad as TransformSpecInput, aBatch({ a: [1] }))).toThrow(expected);
    expect(() => transformSpecHash(bad as TransformSpecInput)).toThrow(expected);
  });

  it('when output lists a column twice, then the spec is refused', () => {
    expect(transformSpecSchema.safeParse({ specVersion: 1, output: ['a', 'a'] }).success).toBe(false);
  });
});

describe('hashes', () => {
  it('when keys are written in another order, then the spec hash does not change', () => {
    expect(transformSpecHash(reverseKeys(spec) as TransformSpecInput)).toBe(transformSpecHash(spec));
    expect(transformSpecHash(spec)).toMatch(/^[a-f0-9]{64}$/);
  });

  it('when a default is written out explicitly, then the spec hash does not change', () => {
    const explicit: TransformSpecInput = {
      ...spec,
      steps: [
        ...spec.steps!.slice(0, 1),
        { type: 'one_hot', column: 'c', unseen: 'other' },
        ...spec.steps!.slice(2),
      ],
    };
    const implicitDefault: TransformSpecInput = {
      ...spec,
      steps: [
        ...spec.steps!.slice(0, 1),
        { type: 'one_hot', column: 'c', unseen: 'error' },
        ...spec.steps!.slice(2),
      ],
    };
    expect(transformSpecHash(explicit)).toBe(transformSpecHash(spec));
    expect(transformSpecHash({ specVersion: 1, steps: [], output: ['a'] })).toBe(
      transformSpecHash({ specVersion: 1, output: ['a'] }),
    );
    expect(transformSpecHash(implicitDefault)).not.toBe(transformSpecHash(spec));
  });

  it('when anything meaningful changes, then the hash changes (including step order)', () => {
    const base = transformSpecHash(spec);
    expect(transformSpecHash({ ...spec, output: ['x2', 'x', 'c_a'] })).not.toBe(base);
    expect(transformSpecHash({ ...spec, steps: [...spec.steps!].reverse() })).not.toBe(base);
  });

  it('when fitted parameters are serialised and read back, then they parse and hash the same', () => {
    const fitted = fitTransforms(spec, aBatch({ x: [1, 2, null, 4], c: ['a', 'b', 'a', 'a'] }));
    const json = JSON.stringify(fitted);
    const restored = fittedTransformsSchema.parse(JSON.parse(json));
    expect(restored).toEqual(fitted);
    expect(fittedTransformsHash(reverseKeys(restored) as typeof fitted)).toBe(fittedTransformsHash(fitted));
    expect(fitted.specHash).toBe(transformSpecHash(spec));
  });

  it('when training data differ, then the fitted hash differs while the spec hash does not', () => {
    const a = fitTransforms(spec, aBatch({ x: [1, 2, 3], c: ['a', 'b', 'a'] }));
    const b = fitTransforms(spec, aBatch({ x: [1, 5, 4], c: ['a', 'b', 'a'] }));
    expect(a.specHash).toBe(b.specHash);
    expect(fittedTransformsHash(a)).not.toBe(fittedTransformsHash(b));
  });
});

describe('assertInputsMatchFeatures', () => {
  const fitted = fitTransforms(
    { specVersion: 1, steps: [{ type: 'one_hot', column: 'c' }], output: ['x', 'c_a'] },
    aBatch({ x: [1], c: ['a'] }),
  );

  it('when every input is a feature of a compatible type, then it passes', () => {
    expect(() =>
      assertInputsMatchFeatures(fitted, [
        { name: 'x', type: 'datetime', nullable: false },
        { name: 'c', type: 'categorical', nullable: false, strictValues: false },
      ]),
    ).not.toThrow();
  });

  it('when an input is not a feature or has the other kind, then every problem is listed', () => {
    expect(() =>
      assertInputsMatchFeatures(fitted, [
        { name: 'c', type: 'numeric', nullable: false, strictRange: false },
      ]),
    ).toThrow(
      "transforms do not match the feature schema: the transforms read 'c' as categorical, the model declares it numeric; the transforms read 'x', which is not a feature of the model",
    );
  });
});

describe('fitted transforms schema', () => {
  const fitted = fitTransforms(
    {
      specVersion: 1,
      steps: [
        { type: 'standardize', columns: ['x', 'y'] },
        { type: 'pca', columns: ['x', 'y'], nComponents: 1 },
      ],
      output: ['pca_0'],
    },
    aBatch({ x: [1, 2, 4], y: [3, 1, 0] }),
  );

  it('when a stored parameter array is shorter than its columns, then reading it back fails', () => {
    const broken = JSON.parse(JSON.stringify(fitted));
    broken.steps[0].scale = [1];
    broken.steps[1].components[0] = [1];
    const result = fittedTransformsSchema.safeParse(broken);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['steps.0.scale', 'standardize has 1 scale for 2 expected'],
      ['steps.1.components.0', 'pca has 1 components.0 for 2 expected'],
    ]);
  });

  it('when stored parameters contradict what fitting guarantees (zero scale, repeated categories, unordered edges, crossed clip bounds), then reading them back fails naming each', () => {
    const stored = {
      specVersion: 1,
      specHash: '0'.repeat(64),
      inputs: [
        { name: 'x', kind: 'numeric' },
        { name: 'c', kind: 'categorical' },
      ],
      steps: [
        { type: 'standardize', columns: ['x'], outputs: ['x_z'], mean: [1], scale: [0] },
        { type: 'min_max', columns: ['x'], outputs: ['x_m'], min: [1], scale: [0] },
        { type: 'one_hot', column: 'c', categories: ['a', 'a'], unseen: 'error', outputs: ['c_a', 'c_a2'] },
        { type: 'ordinal', column: 'c', output: 'c_o', categories: ['b', 'a', 'b'], unseen: 'error', unseenValue: -1 },
        { type: 'bucketize', column: 'x', output: 'x_b', edges: [3, 1] },
        { type: 'clip', columns: ['x'], outputs: ['x_c'], lower: [5], upper: [0] },
      ],
      output: ['x_z', 'x_m', 'c_a', 'c_o', 'x_b', 'x_c'],
      trainingRows: 1,
      fittedRows: 1,
    };
    const result = fittedTransformsSchema.safeParse(stored);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['steps.0.scale.0', "scale 0 for 'x' divides by zero (a constant column is fitted with scale 1)"],
      ['steps.1.scale.0', "scale 0 for 'x' divides by zero (a constant column is fitted with scale 1)"],
      ['steps.2.categories', 'categories must be distinct'],
      ['steps.3.categories', 'categories must be distinct'],
      ['steps.4.edges', 'edges must be strictly increasing'],
      ['steps.5.lower.0', "lower bound 5 is above upper bound 0 for 'x'"],
    ]);
  });

  it('when a stored value is not finite, then reading it back fails', () => {
    const broken = JSON.parse(JSON.stringify(fitted));
    broken.steps[0].mean = [0, null];
    expect(fittedTransformsSchema.safeParse(broken).success).toBe(false);
  });
});
