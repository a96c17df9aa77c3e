/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { createHash } from 'node:crypto';

import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import type { ModelArtifact } from '../../../shared/ports/model-runtime';
import type { ModelTask } from '../../../shared/schemas/model';
import type { ModelSignature } from '../../../shared/schemas/signature';
import {
  externalDataModel,
  identityModel,
  linearRegressor,
  linearRegressorOp,
  sklearnDoubleLinearRegression,
  sklearnLogisticRegressionPipeline,
  type Stump,
  torchBinaryClassifier,
  treeEnsembleClassifier,
  twoOutputRegressor,
  zipMapClassifier,
} from '../../fixtures/onnx-models';
import { matrixInputs } from '../../support/scoring-fixtures';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function artifact(
  bytes: Buffer,
  signature: ModelSignature,
  version = 1,
  task: ModelTask = 'regression',
): ModelArtifact & { fetches: number } {
  const a = {
    model: 'm',
    version,
    sha256: sha(bytes),
    signature,
    task,
    fetches: 0,
    fetch: () => {
      a.fetches += 1;
      return Promise.resolve(bytes);
    },
  };
  return a;
}

/** The rows as the one float32 [N, width] input 'features'. */
function matrix(rows: number[][]) {
  return matrixInputs('features', rows.length, rows[0]!.length, Float32Array.from(rows.flat()));
}

const stumps: Stump[] = [
  { feature: 0, threshold: 0.5, left: [0.6, 0.3, 0.1], right: [0.1, 0.2, 0.7] },
  { feature: 1, threshold: -1, left: [0.2, 0.7, 0.1], right: [0.3, 0.3, 0.4] },
];

describe('OnnxModelRuntime', () => {
  const runtime = new OnnxModelRuntime({ batchSize: 3 });
  afterAll(() => runtime.close());

  it('when a linear regressor runs over more rows than one batch, then every prediction equals x.w + b', async () => {
    const fx = linearRegressor([0.5, -2, 3.25], 1.5);
    const rows = Array.from({ length: 8 }, (_, i) => [i, i * 0.1 - 1, (i % 3) * 2.5]);
    const model = await runtime.load(artifact(fx.bytes, fx.signature));
    const out = await model.predict(matrix(rows));
    expect(out.kind).toBe('regression');
    if (out.kind !== 'regression') return;
    expect(Array.from(out.values)).toEqual(rows.map((r) => fx.predict(r)));
  });

  it('when a row is scored alone, in a batch, or as the last row of a split batch, then its prediction is the same to the bit', async () => {
    // onnxruntime's GEMM takes a dot-product kernel for a single row when the weights are not
    // pre-packed (LinearRegressor, as skl2onnx writes it): it sums in another order, 1-2 ulps off.
    const fx = linearRegressorOp([0.37, -1.9, 2.25, 0.013, -0.6, 1.1, 0.8], 0.1);
    const rows = Array.from({ length: 40 }, (_, i) => Array.from({ length: 7 }, (_, j) => Math.cos(i * 7.3 + j) * 3));
    const predictions = async (rt: OnnxModelRuntime, input: number[][]) => {
      const out = await (await rt.load(artifact(fx.bytes, fx.signature))).predict(matrix(input));
      if (out.kind !== 'regression') throw new Error('a regression was expected');
      return Array.from(out.values);
    };
    const oneRun = new OnnxModelRuntime();
    try {
      const together = await predictions(oneRun, rows);
      for (const [i, row] of rows.entries()) expect(await predictions(oneRun, [row])).toEqual([together[i]]);
      // Batches of 3 leave the 40th row to a run of its own.
      expect(await predictions(runtime, rows)).toEqual(together);
    } finally {
      await oneRun.close();
    }
  });

  it('when a tree-ensemble classifier runs, then labels and class scores match the summed leaf weights', async () => {
    const fx = treeEnsembleClassifier(2, stumps, ['low', 'mid', 'high']);
    const rows = [
      [0, 0],
      [1, -2],
      [0.5, -1],
      [2, 5],
      [-3, -3],
    ];
    const model = await runtime.load(artifact(fx.bytes, fx.signature, 1, 'multiclass'));
    const out = await model.predict(matrix(rows));
    if (out.kind !== 'classification') throw new Error('expected classification');
    expect(out.classCount).toBe(3);
    rows.forEach((r, i) => {
      const expected = fx.predict(r);
      expect(out.labels[i]).toBe(expected.label);
      expect(Array.from(out.probabilities.subarray(i * 3, i * 3 + 3))).toEqual(expected.probabilities);
    });
  });

  it('when a binary tree classifier runs, then it yields two class scores per row', async () => {
    const fx = treeEnsembleClassifier(1, [{ feature: 0, threshold: 0, left: [1, 0], right: [0.25, 0.75] }], ['no', 'yes']);
    const model = await runtime.load(artifact(fx.bytes, fx.signature, 2, 'binary'));
    const out = await model.predict(matrix([[-1], [1]]));
    if (out.kind !== 'classification') throw new Error('expected classification');
    expect(out.labels).toEqual(['no', 'yes']);
    expect(Array.from(out.probabilities)).toEqual([1, 0, 0.25, 0.75].map(Math.fround));
  });

  it('when the same version is loaded twice, then the artifact is fetched once', async () => {
    const fx = linearRegressor([1, 2], 0);
    const a = artifact(fx.bytes, fx.signature, 7);
    const first = await runtime.load(a);
    const second = await runtime.load(a);
    expect(second).toBe(first);
    expect(a.fetches).toBe(1);
  });

  it('when the same artifact is loaded again for the same version with another signature, then the model reads the outputs that signature names', async () => {
    // A registration that failed after loading (a dataset missing) leaves the version loaded; the
    // corrected registration may list the graph's outputs otherwise and must not get the old roles.
    const fx = twoOutputRegressor();
    const first = await runtime.load(artifact(fx.bytes, fx.signature, 30));
    const reordered = { ...fx.signature, outputs: [...fx.signature.outputs].reverse() };
    const second = await runtime.load(artifact(fx.bytes, reordered, 30));
    expect([first.roles, second.roles]).toEqual([
      { kind: 'regression', prediction: 'plus' },
      { kind: 'regression', prediction: 'minus' },
    ]);
    const out = await second.predict(matrix([[2], [3]]));
    expect(out.kind === 'regression' && Array.from(out.values)).toEqual([-2, -3]);
  });

  it('when the cache bound is exceeded, then the least recently used version is released', async () => {
    const small = new OnnxModelRuntime({ maxCacheBytes: 1 });
    const a = linearRegressor([1], 0);
    const b = linearRegressor([2], 0);
    const first = artifact(a.bytes, a.signature, 1);
    await small.load(first);
    await small.load(artifact(b.bytes, b.signature, 2));
    expect(small.size).toBe(1);
    await small.load(first);
    expect(first.fetches).toBe(2);
    await small.close();
  });

  it('when a model is evicted while it runs, then the running call finishes and later calls are refused', async () => {
    const small = new OnnxModelRuntime({ maxCacheBytes: 1, batchSize: 1 });
    const a = linearRegressor([1, 1], 0);
    const b = linearRegressor([2, 2], 0);
    const first = await small.load(artifact(a.bytes, a.signature, 1));
    const running = first.predict(matrix(Array.from({ length: 200 }, (_, i) => [i, 1])));
    await small.load(artifact(b.bytes, b.signature, 2));
    const out = await running;
    if (out.kind !== 'regression') throw new Error('expected regression');
    expect(out.values[199]).toBe(200);
    await expect(first.predict(matrix([[1, 2]]))).rejects.toThrow(/evicted/);
    await small.close();
  });

  it('when the bytes do not hash to the recorded sha256, then loading fails with ARTIFACT_INTEGRITY', async () => {
    const fx = linearRegressor([1], 0);
    const a = { ...artifact(fx.bytes, fx.signature, 3), sha256: '0'.repeat(64) };
    await expect(runtime.load(a)).rejects.toMatchObject({ code: 'ARTIFACT_INTEGRITY' });
  });

  it('when the signature names another input, width or output type, then loading fails with SIGNATURE_MISMATCH listing each problem', async () => {
    const fx = linearRegressor([1, 2, 3], 0);
    const wrong: ModelSignature = {
      inputs: [{ name: 'x', type: 'float32', shape: [-1, 3] }],
      outputs: [{ name: 'variable', type: 'float64', shape: [-1, 1] }],
    };
    const err = await runtime.load(artifact(fx.bytes, wrong, 4)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SIGNATURE_MISMATCH' });
    expect((err as Error).message).toContain("input 'x' is not in the graph");
    expect((err as Error).message).toContain("output 'variable' is float32, the signature says float64");
    expect((err as Error).message).toContain("the graph input 'features' is not in the signature");
    const narrow: ModelSignature = { ...fx.signature, inputs: [{ name: 'features', type: 'float32', shape: ['N', 4] }] };
    await expect(runtime.load(artifact(fx.bytes, narrow, 5))).rejects.toThrow(/shape \[N, 3\], the signature says \[N, 4\]/);
  });

  it('when a classifier signature has no probabilities tensor, then loading fails with SIGNATURE_MISMATCH before fetching', async () => {
    const fx = treeEnsembleClassifier(2, stumps, ['a', 'b', 'c']);
    const a = artifact(fx.bytes, { ...fx.signature, outputs: [fx.signature.outputs[0]!] }, 9, 'multiclass');
    await expect(runtime.load(a)).rejects.toMatchObject({ code: 'SIGNATURE_MISMATCH' });
    expect(a.fetches).toBe(0);
  });

  it('when a classifier ends in ZipMap, then inspect and load fail with UNSUPPORTED_MODEL and say how to export without it', async () => {
    const bytes = zipMapClassifier(2, stumps, ['a', 'b', 'c']);
    await expect(runtime.inspect(bytes)).rejects.toMatchObject({
      code: 'UNSUPPORTED_MODEL',
      message: expect.stringContaining("'zipmap': False") as string,
    });
    const fx = treeEnsembleClassifier(2, stumps, ['a', 'b', 'c']);
    await expect(runtime.load(artifact(bytes, { ...fx.signature, outputs: [fx.signature.outputs[0]!, { name: 'output_probability', type: 'float32', shape: [-1, 3] }] }, 6, 'multiclass'))).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL' });
  });

  it('when a model keeps tensor data in an external file (package.json here), then inspect and load fail with UNSUPPORTED_MODEL and nothing is read', async () => {
    for (const inConstant of [false, true]) {
      const fx = externalDataModel('package.json', 64, inConstant);
      const refused = { code: 'UNSUPPORTED_MODEL', message: expect.stringContaining("the tensor 'W' keeps its data in an external file") as string };
      await expect(runtime.inspect(fx.bytes)).rejects.toMatchObject(refused);
      await expect(runtime.prepare(fx.bytes)).rejects.toMatchObject(refused);
      await expect(runtime.load(artifact(fx.bytes, fx.signature, inConstant ? 21 : 20))).rejects.toMatchObject(refused);
    }
  });

  it("when the model's opset or IR version is newer than onnxruntime supports, then UNSUPPORTED_MODEL says so without onnxruntime's source locations", async () => {
    const opset = await runtime.inspect(identityModel(8, 99)).catch((e: Error) => e);
    expect(opset).toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/^onnxruntime cannot load the model: ONNX Runtime only \*guarantees\* .*Opset 99/) as string });
    const ir = await runtime.inspect(identityModel(99, 13)).catch((e: Error) => e);
    expect(ir).toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/^onnxruntime cannot load the model: Unsupported model IR version: 99, max supported IR version: \d+$/) as string });
  });

  it('when bytes are not an ONNX model, then inspect fails with UNSUPPORTED_MODEL', async () => {
    await expect(runtime.inspect(Buffer.from('not a model'))).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL' });
  });

  it('when the matrix width differs from the input width, then predict fails with SIGNATURE_MISMATCH', async () => {
    const fx = linearRegressor([1, 2], 0);
    const model = await runtime.load(artifact(fx.bytes, fx.signature, 8));
    await expect(model.predict(matrix([[1, 2, 3]]))).rejects.toMatchObject({ code: 'SIGNATURE_MISMATCH' });
  });

  it('when an int64 label output meets named class labels, then label i is the i-th class; a label no class answers to fails', async () => {
    const fit = { numeric: [{ name: 'age', mean: 40, std: 10 }], categorical: [{ name: 'plan', categories: ['a', 'b'] }] };
    const fx = sklearnLogisticRegressionPipeline(fit, [2, 0.5, -0.5], 0);
    const prepared = await runtime.prepare(fx.bytes);
    const inputs = {
      rows: 2,
      tensors: [
        { name: 'age', type: 'float32' as const, rowShape: [1], values: Float32Array.of(20, 60) },
        { name: 'plan', type: 'string' as const, rowShape: [1], values: ['a', 'b'] },
      ],
    };
    const named = await runtime.load({ ...artifact(prepared.bytes, fx.signature, 20, 'binary'), classLabels: ['stay', 'churn'] });
    const out = await named.predict(inputs);
    if (out.kind !== 'classification') throw new Error('expected classification');
    expect(out.labels).toEqual([fx.predict({ age: 20, plan: 'a' }).label, fx.predict({ age: 60, plan: 'b' }).label].map((l) => ['stay', 'churn'][l]));
    expect(out.labels).toEqual(['stay', 'churn']);
    const byValue = await runtime.load({ ...artifact(prepared.bytes, fx.signature, 21, 'binary'), classLabels: ['1', '2'] });
    await expect(byValue.predict(inputs)).rejects.toThrow(/the model's label output gave 0, which is none of the classes \["1","2"\]/);
  });

  it('when a string label output gives a value that is none of the class labels (classes spelled otherwise than the graph\'s), then predict fails instead of writing a prediction no probability column names', async () => {
    const fx = treeEnsembleClassifier(1, [{ feature: 0, threshold: 0, left: [1, 0], right: [0, 1] }], ['no', 'yes']);
    const inputs = matrix([[-1], [1]]);
    const exact = await runtime.load({ ...artifact(fx.bytes, fx.signature, 23, 'binary'), classLabels: ['no', 'yes'] });
    const out = await exact.predict(inputs);
    expect(out.kind === 'classification' && out.labels).toEqual(['no', 'yes']);
    const spelled = await runtime.load({ ...artifact(fx.bytes, fx.signature, 24, 'binary'), classLabels: ['No', 'Yes'] });
    await expect(spelled.predict(inputs)).rejects.toMatchObject({
      code: 'SIGNATURE_MISMATCH',
      message: `the model's label output gave "no", which is none of the classes ["No","Yes"]`,
    });
  });

  it('when a double model (skl2onnx from float64 data) runs, then it is fed and answers in float64', async () => {
    const fx = sklearnDoubleLinearRegression([0.1, 1e-9, 3], 0.3);
    const model = await runtime.load(artifact(fx.bytes, fx.signature, 22));
    const rows = [
      [1.000000001, 5e8, 2],
      [0.3, 0.1, 0.7],
    ];
    const out = await model.predict({ rows: 2, tensors: [{ name: 'X', type: 'float64', rowShape: [3], values: Float64Array.from(rows.flat()) }] });
    if (out.kind !== 'regression') throw new Error('expected regression');
    // Exact to double precision: nothing went through float32 on the way.
    rows.forEach((r, i) => expect(out.values[i]).toBeCloseTo(fx.predictRow(r), 12));
  });

  it('when a binary model gives one sigmoid output, then the label is the second class above 0.5 and both probabilities are given', async () => {
    const fx = torchBinaryClassifier([[1], [-1]], [0, 0], [2, -2], 0);
    const model = await runtime.load({ ...artifact(fx.bytes, fx.signature, 23, 'binary'), classLabels: ['no', 'yes'] });
    const out = await model.predict(matrixInputs('input', 3, 1, Float32Array.of(-1, 0, 2)));
    if (out.kind !== 'classification') throw new Error('expected classification');
    const p = [-1, 0, 2].map((x) => fx.predictRow([x]));
    expect(out.labels).toEqual(p.map((q) => (q > 0.5 ? 'yes' : 'no')));
    const given = Array.from(out.probabilities);
    // onnxruntime's float32 sigmoid may differ from this one in the last bit.
    p.flatMap((q) => [1 - q, q]).forEach((q, i) => expect(given[i]).toBeCloseTo(q, 6));
    for (let r = 0; r < 3; r += 1) expect(given[2 * r]! + given[2 * r + 1]!).toBe(1);
  });

  it('when the inputs fed do not match the graph, then predict fails with SIGNATURE_MISMATCH naming them', async () => {
    const fx = linearRegressor([1, 2], 0);
    const model = await runtime.load(artifact(fx.bytes, fx.signature, 24));
    await expect(model.predict(matrixInputs('other', 1, 2, Float32Array.of(1, 2)))).rejects.toThrow(
      /nothing feeds the input 'features'; the graph has no input 'other'/,
    );
  });
});

