/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { onnx } from 'onnx-proto';

import { assertSelfContained, rewriteExporterHabits } from '../../../shared/adapters/onnx/onnx-graph';
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { type Stump, treeEnsembleClassifier, zipMapClassifier } from '../../fixtures/onnx-models';
import { artifactOf, matrixInputs } from '../../support/scoring-fixtures';

const stumps: Stump[] = [
  { feature: 0, threshold: 0.5, left: [0.6, 0.3, 0.1], right: [0.1, 0.2, 0.7] },
  { feature: 1, threshold: -1, left: [0.2, 0.7, 0.1], right: [0.3, 0.3, 0.4] },
];
const labels = ['low', 'mid', 'high'];

/** A field protobuf readers skip (number 1000, length-delimited): stands for what newer ONNX versions add. */
const unknownField = (text: string) =>
  Buffer.concat([Buffer.from([0xc2, 0x3e, text.length]), Buffer.from(text)]);

describe('rewriting exporter habits', () => {
  const runtime = new OnnxModelRuntime();
  afterAll(() => runtime.close());

  it('when a classifier ends in ZipMap, then its probabilities tensor becomes the output and the model scores as the same trees without ZipMap', async () => {
    const bytes = zipMapClassifier(2, stumps, labels);
    const rewritten = rewriteExporterHabits(bytes);
    expect(rewritten.classLabels).toEqual({ labels, from: "ZipMap 'zipmap'" });
    expect(rewritten.rewrites).toEqual([
      `ZipMap 'zipmap' removed: the output 'output_probability' (a sequence of maps) is now its input 'probability_tensor', float [N, 3], classes ${JSON.stringify(labels)}`,
    ]);
    const prepared = await runtime.prepare(bytes);
    expect(prepared.bytes).toEqual(rewritten.bytes);
    expect(prepared.interface.outputs).toEqual([
      { name: 'label', type: 'string', shape: ['N'] },
      { name: 'probability_tensor', type: 'float32', shape: ['N', 3] },
    ]);
    const plain = treeEnsembleClassifier(2, stumps, labels);
    const signature = { ...plain.signature, outputs: prepared.interface.outputs };
    const model = await runtime.load(
      artifactOf(prepared.bytes, signature, { name: 'm', task: 'multiclass', classLabels: labels }),
    );
    const rows = [
      [0, 0],
      [1, -2],
      [2, 5],
    ];
    const out = await model.predict(matrixInputs('features', 3, 2, Float32Array.from(rows.flat())));
    if (out.kind !== 'classification') throw new Error('expected classification');
    rows.forEach((r, i) => {
      expect(out.labels[i]).toBe(plain.predict(r).label);
      expect(Array.from(out.probabilities.subarray(i * 3, i * 3 + 3))).toEqual(
        plain.predict(r).probabilities,
      );
    });
  });

  it('when the graph holds fields the ONNX definitions here do not know, then the rewrite keeps them byte for byte, and is the same every time', async () => {
    const original = onnx.ModelProto.decode(zipMapClassifier(2, stumps, labels));
    const graph = Buffer.concat([
      Buffer.from(onnx.GraphProto.encode(original.graph!).finish()),
      unknownField('graph-extra'),
    ]);
    const header = Buffer.from(onnx.ModelProto.encode({ ...original, graph: null }).finish());
    const graphField = Buffer.concat([Buffer.from([0x3a]), Buffer.from(encodeVarint(graph.length)), graph]);
    const bytes = Buffer.concat([header, graphField, unknownField('model-extra')]);
    const once = rewriteExporterHabits(bytes);
    expect(once.bytes.indexOf('graph-extra')).toBeGreaterThan(0);
    expect(once.bytes.indexOf('model-extra')).toBeGreaterThan(0);
    expect(rewriteExporterHabits(bytes).bytes).toEqual(once.bytes);
    const again = rewriteExporterHabits(once.bytes);
    expect(again.rewrites).toEqual([]);
    expect(again.bytes).toBe(once.bytes);
    expect((await runtime.inspect(once.bytes)).outputs.map((o) => o.name)).toEqual([
      'label',
      'probability_tensor',
    ]);
  });

  it('when there is no ZipMap, then the bytes come back as they are, with the class labels of the classifier node', () => {
    const plain = treeEnsembleClassifier(2, stumps, labels);
    const result = rewriteExporterHabits(plain.bytes);
    expect(result.bytes).toBe(plain.bytes);
    expect(result).toEqual({
      bytes: plain.bytes,
      rewrites: [],
      classLabels: { labels, from: "TreeEnsembleClassifier 'trees'" },
    });
  });

  it('when a node of another domain is named like an object property or a classifier, then it is no classifier: no class labels, and no crash', async () => {
    for (const opType of ['constructor', 'toString', 'TreeEnsembleClassifier']) {
      const model = onnx.ModelProto.decode(treeEnsembleClassifier(2, stumps, labels).bytes);
      const node = model.graph!.node![0]!;
      node.opType = opType;
      node.domain = 'com.example';
      const bytes = Buffer.from(onnx.ModelProto.encode(model).finish());
      expect(rewriteExporterHabits(bytes)).toEqual({ bytes, rewrites: [] });
      // onnxruntime then refuses the unknown operator with its reason.
      await expect(runtime.prepare(bytes)).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL' });
    }
  });

  it('when a ZipMap feeds another node, or the bytes are no model, then UNSUPPORTED_MODEL', () => {
    const model = onnx.ModelProto.decode(zipMapClassifier(2, stumps, labels));
    model.graph!.node!.push({
      opType: 'Identity',
      name: 'after',
      input: ['output_probability'],
      output: ['copy'],
    });
    const bytes = Buffer.from(onnx.ModelProto.encode(model).finish());
    expect(() => rewriteExporterHabits(bytes)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_MODEL',
        message: expect.stringContaining("its output feeds Identity 'after'") as string,
      }),
    );
    expect(() => rewriteExporterHabits(Buffer.from('not a model at all'))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_MODEL' }),
    );
  });
});

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

describe('models in one file', () => {
  const external = (name: string): onnx.ITensorProto => ({ name, dataType: 1, dims: [1], dataLocation: 1, externalData: [{ key: 'location', value: 'local.settings.json' }] });
  const withGraph = (graph: onnx.IGraphProto, extra: Partial<onnx.IModelProto> = {}) =>
    Buffer.from(onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph, ...extra }).finish());

  it('when a tensor anywhere in the model keeps its data in an external file, then UNSUPPORTED_MODEL names it', () => {
    const cases: [Buffer, string][] = [
      [withGraph({ name: 'g', initializer: [external('W')] }), 'W'],
      [withGraph({ name: 'g', sparseInitializer: [{ values: external('S'), indices: { name: 'i', dataType: 7, dims: [1], int64Data: [0] }, dims: [4] }] }), 'S'],
      [withGraph({ name: 'g', node: [{ opType: 'If', attribute: [{ name: 'then_branch', type: 5, g: { name: 'then', initializer: [external('Inner')] } }] }] }), 'Inner'],
      [withGraph({ name: 'g' }, { functions: [{ name: 'f', node: [{ opType: 'Constant', attribute: [{ name: 'value', type: 4, t: external('F') }] }] }] }), 'F'],
      [withGraph({ name: 'g' }, { trainingInfo: [{ initialization: { name: 'init', initializer: [external('T')] } }] }), 'T'],
    ];
    for (const [bytes, name] of cases)
      expect(() => assertSelfContained(bytes)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MODEL', details: { tensor: name } }));
  });

  it('when every tensor is inside the model, then it passes', () => {
    expect(() => assertSelfContained(zipMapClassifier(2, stumps, labels))).not.toThrow();
    expect(() => assertSelfContained(withGraph({ name: 'g', initializer: [{ name: 'W', dataType: 1, dims: [1], floatData: [1], dataLocation: 0 }] }))).not.toThrow();
  });
});
