/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { createHash } from 'node:crypto';

import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { modelInputSchema } from '../../../shared/schemas/model';
import { fittedTransformsSchema } from '../../../shared/schemas/transforms';
import { checkVersion, type VersionCheck, type VersionPackage } from '../../../shared/usecases/check-version';
import { batchSumModel, linearRegressor, sklearnLinearRegressionPipeline, sklearnOneVsRestClassifier, sklearnVotingClassifier, type Stump, treeEnsembleClassifier, zipMapClassifier } from '../../fixtures/onnx-models';
import { MemoryLake } from '../../support/memory-lake';

const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());

const fx = sklearnLinearRegressionPipeline(
  { numeric: [{ name: 'kw', mean: 2, std: 4 }], categorical: [{ name: 'site', categories: ['a', 'b'] }] },
  [1.5, -1, 2],
  0.25,
);
const model = {
  name: 'energy',
  task: 'regression',
  idColumn: 'meter',
  features: [
    { name: 'kw', type: 'numeric' },
    { name: 'site', type: 'categorical' },
  ],
};
const pkg = (over: Partial<VersionPackage> = {}): VersionPackage => ({
  model,
  version: 2,
  artifact: fx.bytes,
  signature: fx.signature,
  ...over,
});
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Fitted transforms that pass one numeric column, `kw`, through as the model's only input. */
const kwPassThrough = fittedTransformsSchema.parse({
  specVersion: 1,
  specHash: '0'.repeat(64),
  inputs: [{ name: 'kw', kind: 'numeric' }],
  steps: [],
  output: ['kw'],
  trainingRows: 1,
  fittedRows: 1,
});

/** The check a DomainError came from, and its code. */
async function failure(p: Promise<unknown>): Promise<{ check: VersionCheck; code: string; message: string }> {
  const e = (await p.then(
    () => undefined,
    (err: unknown) => err,
  )) as { code: string; message: string; details?: { check: VersionCheck } } | undefined;
  if (!e) throw new Error('expected a failure');
  return { check: e.details!.check, code: e.code, message: e.message };
}

describe('checkVersion: what registration checks', () => {
  it('when everything holds, then each check reports in order and the version is ready to score', async () => {
    const lines: [VersionCheck, string][] = [];
    const golden = [
      { input: { kw: 6, site: 'b' }, expectedOutput: { prediction: fx.predict({ kw: 6, site: 'b' }) } },
    ];
    const checked = await checkVersion(
      { runtime },
      pkg({ artifactSha256: sha256(fx.bytes), goldenRecords: golden }),
      { report: (c, m) => lines.push([c, m]) },
    );
    expect(lines.map(([c]) => c)).toEqual(['artifact', 'signature', 'parity']);
    expect(lines[1]![1]).toBe(
      "inputs 'kw' <- column 'kw' (float32), 'site' <- column 'site' (string); prediction <- 'variable2'",
    );
    expect(lines[2]![1]).toBe('1 golden records match (features of 0, model outputs of 1)');
    expect(checked.artifact).toEqual({
      bytes: fx.bytes,
      sha256: sha256(fx.bytes),
      sourceSha256: sha256(fx.bytes),
      rewrites: [],
    });
    expect(checked.definition.classLabels).toBeUndefined();
  });

  it('when a check fails, then its DomainError says which check in details.check', async () => {
    expect(await failure(checkVersion({ runtime }, pkg({ artifactSha256: '0'.repeat(64) })))).toMatchObject({
      check: 'artifact',
      code: 'ARTIFACT_INTEGRITY',
    });
    expect(await failure(checkVersion({ runtime }, pkg({ rewrittenSha256: '0'.repeat(64) })))).toMatchObject({
      check: 'artifact',
      message: `the package gives a rewritten sha256 ${'0'.repeat(64)}, but nothing in the graph is rewritten`,
    });
    expect(
      await failure(checkVersion({ runtime }, pkg({ model: { ...model, features: [model.features[0]] } }))),
    ).toMatchObject({
      check: 'signature',
      code: 'SIGNATURE_MISMATCH',
    });
    expect(await failure(checkVersion({ runtime }, pkg({ model: { ...model, segmentKeys: ['source_row'] } })))).toMatchObject({
      check: 'signature',
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining("the segment key 'source_row' is a column the backend adds"),
    });
    expect(
      await failure(
        checkVersion(
          { runtime },
          pkg({ goldenRecords: [{ input: { kw: 1, site: 'a' }, expectedFeatures: [1, 2, 3] }] }),
        ),
      ),
    ).toEqual({
      check: 'parity',
      code: 'VALIDATION_ERROR',
      message:
        'golden record 0 gives expectedFeatures, but the version has no fitted transforms: its graph computes its own features, so give expectedOutput only',
    });
    expect(
      await failure(
        checkVersion(
          { runtime },
          pkg({ goldenRecords: [{ input: { kw: 1 }, expectedOutput: { prediction: 1 } }] }),
        ),
      ),
    ).toMatchObject({
      check: 'parity',
      code: 'PARITY_MISMATCH',
      message:
        "model outputs parity failed: golden record 0 cannot be scored: 'site' is empty, which the model's string input 'site' cannot take",
    });
  });

  it('when a classifier names no class labels and its graph none either, then the signature check says so; with a ZipMap they come from it', async () => {
    const bytes = zipMapClassifier(
      1,
      [{ feature: 0, threshold: 0, left: [1, 0], right: [0, 1] }],
      ['no', 'yes'],
    );
    const signature = {
      inputs: [{ name: 'features', type: 'float32' as const, shape: ['N', 1] }],
      outputs: [
        { name: 'label', type: 'string' as const, shape: ['N'] },
        { name: 'probability_tensor', type: 'float32' as const, shape: ['N', 2] },
      ],
    };
    const transforms = kwPassThrough;
    const classifier = { ...model, task: 'binary' };
    const checked = await checkVersion(
      { runtime },
      pkg({ model: classifier, artifact: bytes, signature, transforms }),
    );
    expect(checked.definition.classLabels).toEqual(['no', 'yes']);
    expect(checked.artifact.rewrites).toHaveLength(1);
    const plain = sklearnLinearRegressionPipeline(
      { numeric: [{ name: 'kw', mean: 0, std: 1 }], categorical: [{ name: 'site', categories: ['a'] }] },
      [1, 1],
      0,
    );
    expect(
      await failure(
        checkVersion(
          { runtime },
          pkg({ model: classifier, artifact: plain.bytes, signature: plain.signature }),
        ),
      ),
    ).toMatchObject({
      check: 'signature',
      message: expect.stringContaining('names no classLabels and the graph names none either') as string,
    });
  });

  it('when a OneVsRestClassifier (one binary classifier node per class) is exported without ZipMap, then its [0, 1] nodes are not taken for its classes: it registers with its class labels and scores as onnxruntime computes it', async () => {
    const ovr = sklearnOneVsRestClassifier([[1, -1], [-0.5, 2], [0.3, 0.3]], [0.1, -0.2, 0]);
    const transforms = fittedTransformsSchema.parse({
      ...kwPassThrough,
      inputs: [{ name: 'kw', kind: 'numeric' }, { name: 'kv', kind: 'numeric' }],
      output: ['kw', 'kv'],
    });
    const features = [{ name: 'kw', type: 'numeric' }, { name: 'kv', type: 'numeric' }];
    const classifier = { ...model, task: 'multiclass', features };
    const rows = [[0.5, 1], [2, -1], [-1, -3], [3, 3], [0, 0]];
    const direct = await ort.InferenceSession.create(ovr.bytes);
    const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 2]);
    const want = await direct.run({ X: x });
    await direct.release();
    for (const classLabels of [['0', '1', '2'], ['low', 'mid', 'high']]) {
      const checked = await checkVersion(
        { runtime },
        pkg({ model: { ...classifier, classLabels }, artifact: ovr.bytes, signature: ovr.signature, transforms }),
      );
      expect(checked.definition.classLabels).toEqual(classLabels);
      const out = await checked.scoring.model.predict({ rows: rows.length, tensors: [{ name: 'X', type: 'float32', rowShape: [2], values: Float32Array.from(rows.flat()) }] });
      if (out.kind !== 'classification') throw new Error('a classifier');
      expect(Array.from(out.probabilities)).toEqual(Array.from(want.probabilities!.data as Float32Array));
      expect(out.labels).toEqual(Array.from(want.label!.data as BigInt64Array, (l) => classLabels[Number(l)]));
      expect(out.labels).toEqual(rows.map((r) => classLabels[ovr.predictRow(r).label]));
    }
    // Without class labels the graph names none (its classifier nodes name [0, 1], not the model's classes).
    expect(await failure(checkVersion({ runtime }, pkg({ model: classifier, artifact: ovr.bytes, signature: ovr.signature, transforms })))).toMatchObject({
      check: 'signature',
      message: expect.stringContaining('names no classLabels and the graph names none either') as string,
    });
    // With the ZipMap skl2onnx writes by default, the ZipMap names the classes.
    const zipped = sklearnOneVsRestClassifier([[1, -1], [-0.5, 2], [0.3, 0.3]], [0.1, -0.2, 0], true);
    const checked = await checkVersion({ runtime }, pkg({ model: classifier, artifact: zipped.bytes, signature: zipped.signature, transforms }));
    expect(checked.definition.classLabels).toEqual(['0', '1', '2']);
  });

  it('when a VotingClassifier (one classifier node per estimator, each naming every class) is exported without ZipMap, then the classes its nodes agree on are the graph\'s: taken when left out, checked when given', async () => {
    const stumps = (t: number): Stump[] => [{ feature: 0, threshold: t, left: [0.7, 0.2, 0.1], right: [0.1, 0.3, 0.6] }];
    const labels = ['high', 'low', 'mid'];
    const voting = sklearnVotingClassifier(1, [stumps(0), stumps(1)], labels);
    const classifier = { ...model, task: 'multiclass', features: [{ name: 'kw', type: 'numeric' }] };
    const transforms = kwPassThrough;
    const checked = await checkVersion({ runtime }, pkg({ model: classifier, artifact: voting.bytes, signature: voting.signature, transforms }));
    expect(checked.definition.classLabels).toEqual(labels);
    const xs = [-1, 0.5, 2];
    const out = await checked.scoring.model.predict({ rows: 3, tensors: [{ name: 'input', type: 'float32', rowShape: [1], values: Float32Array.from(xs) }] });
    expect(out.kind === 'classification' && out.labels).toEqual(xs.map((x) => voting.predictRow([x]).label));
    // Given in another order, the probabilities would be read as the wrong classes.
    expect(await failure(checkVersion({ runtime }, pkg({ model: { ...classifier, classLabels: ['low', 'mid', 'high'] }, artifact: voting.bytes, signature: voting.signature, transforms })))).toMatchObject({
      check: 'signature',
      code: 'SIGNATURE_MISMATCH',
      message: expect.stringContaining(`the graph's classes are ["high","low","mid"] (2 classifier nodes`) as string,
    });
  });

  it('when the output the prediction is read from has a fixed batch size, then the signature check refuses it (it would fail every batch of another size)', async () => {
    const fx = batchSumModel();
    const transforms = kwPassThrough;
    expect(await failure(checkVersion({ runtime }, pkg({ artifact: fx.bytes, signature: fx.signature, transforms })))).toEqual({
      check: 'signature',
      code: 'SIGNATURE_MISMATCH',
      message: "the output 'variable' has a fixed batch size 1: export it with a dynamic first dimension (None / dynamic_axes)",
    });
  });

  it('when the fitted transforms read a column nothing provides, or one of the wrong kind, then the transforms check refuses them before anything scores', async () => {
    const lin = linearRegressor([1], 0);
    const lone = { artifact: lin.bytes, signature: lin.signature };
    const base = kwPassThrough;
    const site = { name: 'site', kind: 'categorical' as const };
    const broken: [unknown, string][] = [
      [{ ...base, output: ['ghost'] }, "output: column 'ghost' is neither an input column nor written by an earlier step"],
      [
        { ...base, steps: [{ type: 'standardize', columns: ['ghost'], outputs: ['kw'], mean: [0], scale: [1] }] },
        "step 1 (standardize): column 'ghost' is neither an input column nor written by an earlier step",
      ],
      [{ ...base, inputs: [site], output: ['site'] }, "output: column 'site' is categorical, a numeric column is needed"],
      [
        {
          ...base,
          inputs: [site],
          steps: [
            { type: 'impute', columns: ['site'], outputs: ['site'], strategy: 'constant', fill: [3] },
            { type: 'ordinal', column: 'site', output: 'kw', categories: ['a', 'b'], unseen: 'error', unseenValue: -1 },
          ],
        },
        "step 1 (impute): fill value for categorical 'site' is not a string",
      ],
    ];
    for (const [transforms, reason] of broken) {
      expect(await failure(checkVersion({ runtime }, pkg({ ...lone, transforms: fittedTransformsSchema.parse(transforms) })))).toEqual({
        check: 'transforms',
        code: 'VALIDATION_ERROR',
        message: `the fitted transforms cannot be applied: ${reason}`,
      });
    }
  });

  it('when class labels repeat, in the definition or in the graph, then they are refused: each class has its own probability column', async () => {
    const stump = [{ feature: 0, threshold: 0, left: [1, 0], right: [0, 1] }];
    const classifier = { ...model, task: 'binary', features: [{ name: 'kw', type: 'numeric' }] };
    expect(modelInputSchema.safeParse({ ...classifier, classLabels: ['x', 'x'] }).error?.issues.map((i) => i.message)).toEqual([
      "class label 'x' appears twice: class labels must be distinct",
    ]);
    const transforms = kwPassThrough;
    for (const bytes of [treeEnsembleClassifier(1, stump, ['x', 'x']).bytes, zipMapClassifier(1, stump, ['x', 'x'])]) {
      const outputs = (await runtime.prepare(bytes)).interface.outputs;
      const signature = { inputs: [{ name: 'features', type: 'float32' as const, shape: ['N', 1] }], outputs };
      expect(await failure(checkVersion({ runtime }, pkg({ model: classifier, artifact: bytes, signature, transforms })))).toMatchObject({
        check: 'signature',
        code: 'VALIDATION_ERROR',
        message: expect.stringContaining("class label 'x' appears twice") as string,
      });
    }
  });

  it('when the graph gives outputs of another size than it declares (a ZipMap naming 3 classes over 2 probabilities), then a trial run at the signature check refuses it', async () => {
    const graph = onnx.ModelProto.decode(zipMapClassifier(1, [{ feature: 0, threshold: 0, left: [1, 0], right: [0, 1] }], ['a', 'b']));
    const zipMap = graph.graph!.node!.find((n) => n.opType === 'ZipMap')!;
    zipMap.attribute = [{ name: 'classlabels_strings', type: onnx.AttributeProto.AttributeType.STRINGS, strings: ['a', 'b', 'c'].map((c) => Buffer.from(c)) }];
    const bytes = Buffer.from(onnx.ModelProto.encode(graph).finish());
    const signature = { inputs: [{ name: 'features', type: 'float32' as const, shape: ['N', 1] }], outputs: (await runtime.prepare(bytes)).interface.outputs };
    const transforms = kwPassThrough;
    expect(await failure(checkVersion({ runtime }, pkg({ model: { ...model, task: 'multiclass' }, artifact: bytes, signature, transforms })))).toEqual({
      check: 'signature',
      code: 'SIGNATURE_MISMATCH',
      message: 'a trial run on two rows: the model returned 4 probabilities for 2 rows and 3 classes',
    });
  });

  it('when the sample scores no row, then the sample check fails with the reasons; otherwise it reports the counts', async () => {
    const lake = new MemoryLake();
    const files = new LakeTabularFiles(lake);
    const output = { partPath: 'scratch/part.parquet', quarantinePath: 'scratch/rejected.jsonl' };
    await lake.write('drops/energy/bad.csv', Buffer.from('meter,kw,site\nm1,x,a\nm2,,b\n'));
    await lake.write('drops/energy/good.csv', Buffer.from('meter,kw,site\nm1,1,a\nm2,,b\n'));
    expect(
      await failure(
        checkVersion({ runtime, lake, files }, pkg(), {
          sample: { source: 'drops/energy/bad.csv', ...output },
        }),
      ),
    ).toEqual({
      check: 'sample',
      code: 'INVALID_INPUT_FILE',
      message:
        'no row of the sample could be scored: 2 rows read, 0 scored, 2 rejected (not_a_number:kw: 1, missing_value:kw: 1)',
    });
    const checked = await checkVersion({ runtime, lake, files }, pkg(), {
      sample: { source: 'drops/energy/good.csv', ...output },
    });
    expect(checked.sample).toMatchObject({
      rowsRead: 2,
      rowsScored: 1,
      rowsRejected: 1,
      partPath: output.partPath,
    });
  });
});
