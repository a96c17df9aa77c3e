/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { createHash } from 'node:crypto';

import { OnnxModelExporter } from '../../../shared/adapters/onnx/linear-onnx';
import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { seededRandom } from '../../../shared/domain/random';
import type { ExportedModel } from '../../../shared/ports/model-exporter';
import type { ModelTask } from '../../../shared/schemas/model';

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

  it('when the same coefficients are exported twice, then the bytes are the same', () => {
    const a = exporter.logisticRegression({ weights: [1, 2], bias: 3 }, ['no', 'yes']);
    const b = exporter.logisticRegression({ weights: [1, 2], bias: 3 }, ['no', 'yes']);
    expect(sha(a.bytes)).toBe(sha(b.bytes));
  });
});
