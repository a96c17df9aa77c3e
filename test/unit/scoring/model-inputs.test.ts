import { type InputTensor, modelInputsBuilder, planModelInputs } from '../../../shared/domain/model-inputs';
import { fitTransforms } from '../../../shared/domain/transforms';
import { modelInputSchema } from '../../../shared/schemas/model';
import type { TensorSpec } from '../../../shared/schemas/signature';
import { aBatch } from '../transforms/builders';

const definition = modelInputSchema.parse({
  name: 'shop',
  task: 'regression',
  idColumn: 'id',
  features: [
    { name: 'age', type: 'numeric', nullable: true },
    { name: 'visits', type: 'numeric', nullable: true },
    { name: 'plan', type: 'categorical', nullable: true },
    { name: 'member', type: 'boolean' },
    { name: 'since', type: 'datetime' },
  ],
});
const features = definition.features;
const fitted = fitTransforms(
  {
    specVersion: 1,
    steps: [
      { type: 'impute', columns: ['age'], strategy: 'mean' },
      { type: 'standardize', columns: ['age'] },
    ],
    output: ['age'],
  },
  aBatch({ age: [20, 40, null, 60] }),
);
const out: TensorSpec = { name: 'variable', type: 'float32', shape: [-1, 1] };
const tensor = (
  name: string,
  type: TensorSpec['type'],
  shape: TensorSpec['shape'] = [-1, 1],
): TensorSpec => ({ name, type, shape });
const plan = (inputs: TensorSpec[], withTransforms = false) =>
  planModelInputs({ inputs, outputs: [out] }, features, withTransforms ? fitted : undefined);
const values = (t: InputTensor | undefined) =>
  t ? Array.from(t.values as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v)) : undefined;

describe('planModelInputs', () => {
  it('when there are transforms and one input, then it takes the matrix, whatever its name', () => {
    expect(plan([tensor('features', 'float32', ['N', 1])], true)).toEqual([
      { source: 'transforms', name: 'features', type: 'float32', width: 1 },
    ]);
    expect(plan([tensor('age', 'float64', ['N', 1])], true)).toEqual([
      { source: 'transforms', name: 'age', type: 'float64', width: 1 },
    ]);
  });

  it('when inputs are named after columns, then each takes its column; with transforms, the one left over takes the matrix', () => {
    expect(
      plan([
        tensor('age', 'float32'),
        tensor('plan', 'string', [-1]),
        tensor('member', 'bool'),
        tensor('since', 'int64'),
      ]),
    ).toEqual([
      { source: 'column', name: 'age', feature: features[0], type: 'float32', rowShape: [1] },
      { source: 'column', name: 'plan', feature: features[2], type: 'string', rowShape: [] },
      { source: 'column', name: 'member', feature: features[3], type: 'bool', rowShape: [1] },
      { source: 'column', name: 'since', feature: features[4], type: 'int64', rowShape: [1] },
    ]);
    expect(
      plan([tensor('scaled', 'float32', ['N', 1]), tensor('plan', 'string')], true).map((f) => [
        f.source,
        f.name,
      ]),
    ).toEqual([
      ['transforms', 'scaled'],
      ['column', 'plan'],
    ]);
  });

  it('when inputs cannot be fed, then one SIGNATURE_MISMATCH names each input and why', () => {
    const err = (() => {
      try {
        plan([
          tensor('age', 'string'),
          tensor('income', 'float32'),
          tensor('visits', 'float32', [-1, 3]),
          tensor('plan', 'float32'),
          tensor('since', 'int64', [1, 1]),
        ]);
      } catch (e) {
        return e as Error & { code: string };
      }
      throw new Error('expected a failure');
    })();
    expect(err.code).toBe('SIGNATURE_MISMATCH');
    expect(err.message).toContain(
      "the input 'age' is string, but 'age' is a numeric feature (it can feed float32, float64, int64, int32)",
    );
    expect(err.message).toContain(
      "the input 'income' has no column: no feature of the model is named so, and there are no fitted transforms to feed it",
    );
    expect(err.message).toContain(
      "the input 'visits' has shape [N, 3]; an input fed from a column takes [N] or [N, 1]",
    );
    expect(err.message).toContain(
      "the input 'plan' is float32, but 'plan' is a categorical feature (it can feed string)",
    );
    expect(err.message).toContain("the input 'since' has a fixed batch size 1");
  });

  it('when the matrix input does not fit the transforms, then SIGNATURE_MISMATCH says so', () => {
    expect(() => plan([tensor('features', 'float32', ['N', 'W'])], true)).toThrow(/fixed width/);
    expect(() => plan([tensor('features', 'float32', ['N', 3])], true)).toThrow(
      /the transforms produce 1 features, the input 'features' takes 3/,
    );
    expect(() => plan([tensor('age', 'float32'), tensor('plan', 'string')], true)).toThrow(
      /the fitted transforms feed no input/,
    );
    expect(() => plan([tensor('a', 'float32', ['N', 1]), tensor('b', 'float32', ['N', 1])], true)).toThrow(
      /the inputs 'a', 'b' are not named after columns/,
    );
  });
});

describe('modelInputsBuilder', () => {
  const batch = {
    rowCount: 5,
    numeric: {
      age: Float64Array.of(20, NaN, 40.5, 1e39, 60),
      visits: Float64Array.of(3, 4, NaN, 2.5, 3e9),
      member: Float64Array.of(1, 0, 1, 1, 0),
      since: Float64Array.of(0, 1.7e12, -86_400_000, 5e15, 1),
    },
    categorical: { plan: ['pro', 'basic', null, 'pro', 'basic'] },
  };

  it('when the transforms feed the only float32 input, then their matrix goes as it is', () => {
    const feed = modelInputsBuilder(
      plan([tensor('features', 'float32', ['N', 1])], true),
      fitted,
    )(aBatch({ age: [20, null, 60] }));
    expect(feed.inputs.rows).toBe(3);
    expect(feed.inputs.tensors).toHaveLength(1);
    expect(feed.inputs.tensors[0]).toMatchObject({ name: 'features', type: 'float32', rowShape: [1] });
    // Fitted on the imputed column [20, 40, 40, 60]: mean 40, std sqrt(200).
    expect(values(feed.inputs.tensors[0])).toEqual([-20, 0, 20].map((v) => Math.fround(v / Math.sqrt(200))));
  });

  it('when columns feed typed inputs, then each gets its element type and rows that cannot be fed are rejected with the reason', () => {
    const feeds = plan([
      tensor('age', 'float32'),
      tensor('visits', 'int32', [-1]),
      tensor('plan', 'string'),
      tensor('member', 'bool'),
      tensor('since', 'int64'),
    ]);
    const fed = modelInputsBuilder(feeds)(batch);
    expect(fed.rejected).toEqual([
      { row: 2, reason: "'visits' is empty, which the model's int32 input 'visits' cannot take" },
      {
        row: 3,
        reason:
          "'age' = 1e+39 is outside the float32 range, which the model's float32 input 'age' cannot take",
      },
      {
        row: 4,
        reason:
          "'visits' = 3000000000 is outside the int32 range, which the model's int32 input 'visits' cannot take",
      },
    ]);
    expect(Array.from(fed.keptRows)).toEqual([0, 1]);
    const byName = new Map(fed.inputs.tensors.map((t) => [t.name, t]));
    expect(values(byName.get('age'))).toEqual([20, NaN]);
    expect(values(byName.get('visits'))).toEqual([3, 4]);
    expect(values(byName.get('plan'))).toEqual(['pro', 'basic']);
    expect(values(byName.get('member'))).toEqual([1, 0]);
    expect(values(byName.get('since'))).toEqual([0, 1.7e12]);
    expect(byName.get('since')!.values).toBeInstanceOf(BigInt64Array);
    expect(byName.get('visits')!.rowShape).toEqual([]);
  });

  it('when an int64 input takes negative and large whole numbers, then each arrives exactly', () => {
    const fed = modelInputsBuilder(plan([tensor('since', 'int64')]))({
      rowCount: 4,
      numeric: { since: Float64Array.of(-1, -86_400_000, 2 ** 53, -(2 ** 40) - 3) },
      categorical: {},
    });
    expect(Array.from(fed.inputs.tensors[0]!.values as BigInt64Array)).toEqual([
      -1n,
      -86_400_000n,
      2n ** 53n,
      -(2n ** 40n) - 3n,
    ]);
  });

  it('when transforms and columns both feed, then a row either rejects is left out of both, with both reasons', () => {
    const strict = fitTransforms(
      { specVersion: 1, steps: [{ type: 'log1p', columns: ['visits'] }], output: ['visits'] },
      aBatch({ visits: [1, 2] }),
    );
    const feeds = planModelInputs(
      { inputs: [tensor('features', 'float32', ['N', 1]), tensor('plan', 'string')], outputs: [out] },
      features,
      strict,
    );
    const fed = modelInputsBuilder(
      feeds,
      strict,
    )({
      rowCount: 4,
      numeric: { visits: Float64Array.of(0, -5, 3, 7) },
      categorical: { plan: ['a', null, null, 'd'] },
    });
    expect(fed.rejected).toEqual([
      {
        row: 1,
        reason:
          "'plan' is empty, which the model's string input 'plan' cannot take; step 1 (log1p): log1p(-5) of 'visits' is not finite",
      },
      { row: 2, reason: "'plan' is empty, which the model's string input 'plan' cannot take" },
    ]);
    expect(Array.from(fed.keptRows)).toEqual([0, 3]);
    expect(fed.inputs.rows).toBe(2);
    expect(values(fed.inputs.tensors[0])).toEqual([0, Math.fround(Math.log1p(7))]);
    expect(values(fed.inputs.tensors[1])).toEqual(['a', 'd']);
  });

  it('when the matrix input is float64, then it gets the float32 features widened', () => {
    const fed = modelInputsBuilder(
      plan([tensor('features', 'float64', ['N', 1])], true),
      fitted,
    )(aBatch({ age: [20, 60] }));
    expect(fed.inputs.tensors[0]!.values).toBeInstanceOf(Float64Array);
    expect(values(fed.inputs.tensors[0])).toEqual([-20, 20].map((v) => Math.fround(v / Math.sqrt(200))));
  });
});
