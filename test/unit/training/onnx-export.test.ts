/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { createHash } from 'node:crypto';

import { OnnxModelExporter } from '../../../shared/adapters/onnx/linear-onnx';
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { seededRandom } from '../../../shared/domain/random';
import { fitMultinomialLogisticRegression } from '../../../shared/domain/training/multinomial';
import type { ExportedModel } from '../../../shared/ports/model-exporter';
import type { ModelTask } from '../../../shared/schemas/model';
import reference from '../../fixtures/training/multinomial-reference.json';

const exporter = new OnnxModelExporter();
const runtime = new OnnxModelRuntime();
afterAll(() => runtime.close());
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The feature matrix as the model's one input tensor. */
const matrixInput = (rows: number, width: number, values: Float32Array) => ({ rows, tensors: [{ name: 'features', type: 'float32' as const, rowShape: [width], values }] });

/** Rows of random float32 inputs, row-major. */
function inputs(rows: number, width: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: rows * width }, () => (random.next() - 0.5) * 8);
}

async function load(model: ExportedModel, task: ModelTask, classLabels?: string[]) {
  return runtime.load({
    model: 'exported',
    version: 1,
    sha256: sha(model.bytes),
    signature: model.signature,
    task,
    ...(classLabels ? { classLabels } : {}),
    fetch: async () => model.bytes,
  });
}

describe('ONNX graphs of the built-in trainer, run by onnxruntime', () => {
  it('when a linear regression is exported, then onnxruntime answers X w + b for every row (float32)', async () => {
    const weights = [2.5, -1.25, 0.125, 3];
    const model = exporter.linearRegression({ weights, bias: -7.5 });
    const values = inputs(50, 4, 1);
    const out = await (await load(model, 'regression')).predict(matrixInput(50, 4, values));
    if (out.kind !== 'regression') throw new Error('expected a regression output');
    for (let i = 0; i < 50; i += 1) {
      let direct = -7.5;
      for (let j = 0; j < 4; j += 1) direct += values[i * 4 + j]! * Math.fround(weights[j]!);
      expect(Math.abs(out.values[i]! - direct)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(direct)));
    }
  });

  it('when a logistic regression is exported, then the probabilities are the sigmoid of X w + b and the label the likelier class', async () => {
    const weights = [1.5, -2, 0.5];
    const model = exporter.logisticRegression({ weights, bias: 0.25 }, ['stay', 'churn']);
    const values = inputs(64, 3, 2);
    const out = await (await load(model, 'binary', ['stay', 'churn'])).predict(matrixInput(64, 3, values));
    if (out.kind !== 'classification') throw new Error('expected a classification output');
    expect(out.classCount).toBe(2);
    const labels = new Set<string>();
    for (let i = 0; i < 64; i += 1) {
      let z = 0.25;
      for (let j = 0; j < 3; j += 1) z += values[i * 3 + j]! * Math.fround(weights[j]!);
      const p1 = 1 / (1 + Math.exp(-z));
      expect(Math.abs(out.probabilities[i * 2 + 1]! - p1)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(out.probabilities[i * 2]! - (1 - p1))).toBeLessThanOrEqual(1e-6);
      expect(out.labels[i]).toBe(p1 > 0.5 ? 'churn' : 'stay');
      labels.add(out.labels[i]!);
    }
    expect(labels).toEqual(new Set(['stay', 'churn']));
  });

  it('when a multinomial logistic regression is exported, then onnxruntime answers the fit\'s own softmax probabilities (float32) in class-label order and the likeliest label', async () => {
    const c = reference.cases.three_classes;
    const fit = fitMultinomialLogisticRegression({ rows: c.X.length, width: 3, values: Float32Array.from(c.X.flat()) }, c.y, 3);
    const classLabels = ['setosa', 'versicolor', 'virginica'];
    const model = exporter.multinomialLogisticRegression(fit, classLabels);
    expect(model.signature.outputs).toEqual([
      { name: 'label', type: 'string', shape: ['N'] },
      { name: 'probabilities', type: 'float32', shape: ['N', 3] },
    ]);
    const rows = c.X.length;
    const out = await (await load(model, 'multiclass', classLabels)).predict(matrixInput(rows, 3, Float32Array.from(c.X.flat())));
    if (out.kind !== 'classification') throw new Error('expected a classification output');
    expect(out.classCount).toBe(3);
    const seen = new Set<string>();
    for (let i = 0; i < rows; i += 1) {
      // The fit's probabilities in float64: softmax of W x + b.
      const z = fit.weights.map((w, k) => w.reduce((s, wj, j) => s + wj * c.X[i]![j]!, fit.biases[k]!));
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const p = e.map((v) => v / e.reduce((s, u) => s + u, 0));
      p.forEach((pk, k) => expect(Math.abs(out.probabilities[i * 3 + k]! - pk)).toBeLessThanOrEqual(1e-6));
      expect(out.labels[i]).toBe(classLabels[p.indexOf(Math.max(...p))]);
      seen.add(out.labels[i]!);
    }
    expect(seen).toEqual(new Set(classLabels));
  });

  it('when every class is as likely (a tie), then the multinomial graph labels the row with the first class, as the binary graph does', async () => {
    const model = exporter.multinomialLogisticRegression({ weights: [[0, 0], [0, 0], [0, 0], [0, 0]], biases: [0, 0, 0, 0] }, ['d', 'c', 'b', 'a']);
    const out = await (await load(model, 'multiclass', ['d', 'c', 'b', 'a'])).predict(matrixInput(2, 2, Float32Array.from([1, 2, -3, 4])));
    if (out.kind !== 'classification') throw new Error('expected a classification output');
    expect(out.labels).toEqual(['d', 'd']);
    expect(Array.from(out.probabilities)).toEqual(new Array(8).fill(0.25));
  });

  it('when the multinomial coefficients are for another number of classes than the labels, then it refuses to export', () => {
    expect(() => exporter.multinomialLogisticRegression({ weights: [[1], [2]], biases: [0, 0] }, ['a', 'b', 'c'])).toThrow(/3 class labels, but weights for 2 classes and 2 intercepts/);
  });

  it('when the same coefficients are exported twice, then the bytes are the same', () => {
    const a = exporter.logisticRegression({ weights: [1, 2], bias: 3 }, ['no', 'yes']);
    const b = exporter.logisticRegression({ weights: [1, 2], bias: 3 }, ['no', 'yes']);
    expect(sha(a.bytes)).toBe(sha(b.bytes));
  });
});
