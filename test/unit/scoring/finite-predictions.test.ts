/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { Readable } from 'node:stream';

import { OnnxModelRuntime } from '../../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../../shared/adapters/tabular/lake-tabular-files';
import { type BatchDeps, VersionCache } from '../../../shared/usecases/batch-inference';
import { withFiniteOutputs } from '../../../shared/usecases/finite-predictions';
import { registerPackage, stageUpload } from '../../../shared/usecases/register-package';
import { RegistryUseCases } from '../../../shared/usecases/registry';
import { scoreRows } from '../../../shared/usecases/score-rows';
import { logRegressor } from '../../fixtures/onnx-models';
import { anActor } from '../../support/builders';
import { InMemoryModelRegistry } from '../../support/in-memory-registry';
import { inMemoryRunStore } from '../../support/in-memory-run-store';
import { MemoryLake } from '../../support/memory-lake';

describe('predictions that are not numbers', () => {
  it('when a classifier gives a NaN or infinite probability, then that row leaves the predictions with the class named, the others keep their order', () => {
    const probabilities = Float32Array.from([0.2, 0.8, NaN, 0.5, 0.6, 0.4, 0.1, Infinity]);
    const result = withFiniteOutputs(
      [3, 5, 6, 9],
      { kind: 'classification', rows: 4, labels: ['yes', 'no', 'no', 'yes'], probabilities, classCount: 2 },
      ['no', 'yes'],
    );
    expect(Array.from(result.keptRows)).toEqual([3, 6]);
    expect(result.rejected).toEqual([
      { row: 5, reason: "the model's probability of class 'no' is NaN" },
      { row: 9, reason: "the model's probability of class 'yes' is Infinity" },
    ]);
    expect(result.predictions).toEqual({ kind: 'classification', rows: 2, labels: ['yes', 'no'], probabilities: Float32Array.from([0.2, 0.8, 0.6, 0.4]), classCount: 2 });
  });

  it('when every output is finite, then the predictions come back as they are', () => {
    const predictions = { kind: 'regression' as const, rows: 2, values: Float64Array.from([1, -2]) };
    const keptRows = [0, 1];
    expect(withFiniteOutputs(keptRows, predictions, [])).toEqual({ keptRows, predictions, rejected: [] });
  });

  it('when rows are scored synchronously and the model answers some with NaN or an infinity, then those rows get a model_output error and the others their prediction', async () => {
    const store = new InMemoryModelRegistry();
    const lake = new MemoryLake();
    const runtime = new OnnxModelRuntime();
    const clock = { now: () => new Date('2026-06-01T12:00:00Z') };
    const registry = new RegistryUseCases({ registry: store, clock });
    try {
      await registry.createModel({ name: 'logs', task: 'regression', idColumn: 'id', features: [{ name: 'x', type: 'numeric' }] }, anActor());
      const fx = logRegressor('x');
      const deps = { registry, lake, maxArtifactBytes: 1e6, runtime };
      const staged = await stageUpload(deps, 'logs', Readable.from([fx.bytes]));
      await registerPackage(deps, { model: 'logs', manifest: { signature: fx.signature }, artifact: staged, actor: anActor() });
      const batch: BatchDeps = { registry: store, runs: inMemoryRunStore(), lake, files: new LakeTabularFiles(lake), runtime, clock, cache: new VersionCache() };
      const rows = [{ id: 'a', x: 1 }, { id: 'b', x: -1 }, { id: 'c', x: 0 }];
      expect(await scoreRows(batch, { model: 'logs', rows, version: 1 })).toEqual({
        model: 'logs',
        version: 1,
        scored: 1,
        rejected: 2,
        results: [
          { row: 0, id: 'a', prediction: 0 },
          { row: 1, id: 'b', error: { code: 'model_output', reason: "the model's prediction is NaN" } },
          { row: 2, id: 'c', error: { code: 'model_output', reason: "the model's prediction is -Infinity" } },
        ],
      });
    } finally {
      await runtime.close();
    }
  });
});
