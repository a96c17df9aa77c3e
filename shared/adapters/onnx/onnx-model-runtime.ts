import { createHash } from 'node:crypto';

import * as ort from 'onnxruntime-node';

import { DomainError } from '../../domain/errors';
import type { FeatureMatrix } from '../../domain/tabular';
import type { LoadedModel, ModelArtifact, ModelInterface, ModelRuntime, Predictions } from '../../ports/model-runtime';
import type { ModelSignature, TensorElementType, TensorSpec } from '../../schemas/signature';

export interface OnnxRuntimeOptions {
  /** Upper bound on the summed size of loaded ONNX artifacts; least recently used are released. */
  maxCacheBytes?: number;
  /** Rows per `session.run` call. */
  batchSize?: number;
}

const ZIPMAP_HINT =
  "export the classifier without ZipMap so probabilities are a tensor: skl2onnx " +
  "`to_onnx(model, X, options={id(model): {'zipmap': False}})` (or `convert_sklearn(..., options=...)`)";

interface CacheEntry {
  bytes: number;
  session: Promise<ort.InferenceSession>;
  model: LoadedModel;
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[], where: string): TensorSpec[] {
  return meta.map((m) => {
    if (!m.isTensor) {
      throw new DomainError('UNSUPPORTED_MODEL', `${where} '${m.name}' is not a tensor (ZipMap or sequence): ${ZIPMAP_HINT}`, {
        output: m.name,
      });
    }
    return {
      name: m.name,
      elementType: m.type as TensorElementType,
      shape: m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : null)),
    };
  });
}

async function createSession(bytes: Buffer): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new DomainError('UNSUPPORTED_MODEL', `onnxruntime cannot load the model: ${(e as Error).message}`);
  }
}

function interfaceOf(session: ort.InferenceSession): ModelInterface {
  return { inputs: describe(session.inputMetadata, 'input'), outputs: describe(session.outputMetadata, 'output') };
}

const showShape = (shape: (number | null)[]) => `[${shape.map((d) => d ?? 'N').join(', ')}]`;

function checkTensor(expected: TensorSpec, actual: TensorSpec | undefined, role: string): string[] {
  if (!actual) return [`${role} '${expected.name}' is not in the graph`];
  const problems: string[] = [];
  if (actual.elementType !== expected.elementType)
    problems.push(`${role} '${expected.name}' is ${actual.elementType}, the signature says ${expected.elementType}`);
  const rankOk = actual.shape.length === expected.shape.length;
  const dimsOk =
    rankOk && expected.shape.every((d, i) => d === null || actual.shape[i] === null || actual.shape[i] === d);
  // ORT reports an empty shape when the graph leaves it undeclared; only declared shapes are checked.
  if (actual.shape.length > 0 && !dimsOk)
    problems.push(
      `${role} '${expected.name}' has shape ${showShape(actual.shape)}, the signature says ${showShape(expected.shape)}`,
    );
  return problems;
}

/** Compares the graph with the version's signature; every problem is listed in one error. */
export function checkSignature(graph: ModelInterface, signature: ModelSignature): void {
  const byName = (list: TensorSpec[], name: string) => list.find((t) => t.name === name);
  const problems = [...checkTensor(signature.input, byName(graph.inputs, signature.input.name), 'input')];
  if (graph.inputs.length !== 1)
    problems.push(`the graph has ${graph.inputs.length} inputs, the pipeline feeds exactly one`);
  const outputs =
    signature.outputs.kind === 'regression'
      ? [['prediction', signature.outputs.prediction] as const]
      : [['label', signature.outputs.label] as const, ['probabilities', signature.outputs.probabilities] as const];
  for (const [role, spec] of outputs) problems.push(...checkTensor(spec, byName(graph.outputs, spec.name), `${role} output`));
  if (problems.length > 0)
    throw new DomainError('SIGNATURE_MISMATCH', `the ONNX graph does not match the signature: ${problems.join('; ')}`, {
      problems,
    });
}

function labelText(data: ort.Tensor['data'], i: number): string {
  const v = (data as ArrayLike<unknown>)[i];
  return typeof v === 'string' ? v : String(v);
}

class OnnxLoadedModel implements LoadedModel {
  constructor(
    readonly signature: ModelSignature,
    private readonly session: ort.InferenceSession,
    private readonly batchSize: number,
  ) {}

  async predict(matrix: FeatureMatrix): Promise<Predictions> {
    const width = this.signature.input.shape[1] ?? 0;
    if (matrix.width !== width)
      throw new DomainError('SIGNATURE_MISMATCH', `the transforms produce ${matrix.width} features, the model takes ${width}`);
    const out = this.signature.outputs;
    const rows = matrix.rows;
    if (out.kind === 'regression') {
      const values = new Float64Array(rows);
      await this.forBatches(matrix, [out.prediction.name], (start, n, result) => {
        const data = result[out.prediction.name]!.data as Float32Array | Float64Array;
        if (data.length !== n)
          throw new DomainError('SIGNATURE_MISMATCH', `the model returned ${data.length} values for ${n} rows`);
        values.set(data, start);
      });
      return { kind: 'regression', rows, values };
    }
    const classCount = out.probabilities.shape[1] ?? 0;
    const labels: string[] = new Array<string>(rows);
    const probabilities = new Float32Array(rows * classCount);
    await this.forBatches(matrix, [out.label.name, out.probabilities.name], (start, n, result) => {
      const labelData = result[out.label.name]!.data;
      const p = result[out.probabilities.name]!.data as Float32Array;
      if (p.length !== n * classCount || labelData.length !== n)
        throw new DomainError('SIGNATURE_MISMATCH', `the model returned outputs of unexpected size for ${n} rows`);
      for (let i = 0; i < n; i += 1) labels[start + i] = labelText(labelData, i);
      probabilities.set(p, start * classCount);
    });
    return { kind: 'classification', rows, labels, probabilities, classCount };
  }

  private async forBatches(
    matrix: FeatureMatrix,
    fetches: string[],
    take: (start: number, n: number, result: ort.InferenceSession.OnnxValueMapType) => void,
  ): Promise<void> {
    const inputName = this.signature.input.name;
    for (let start = 0; start < matrix.rows; start += this.batchSize) {
      const n = Math.min(this.batchSize, matrix.rows - start);
      const values = matrix.values.subarray(start * matrix.width, (start + n) * matrix.width);
      const feed = { [inputName]: new ort.Tensor('float32', values, [n, matrix.width]) };
      const result = await this.session.run(feed, fetches);
      take(start, n, result);
      for (const name of fetches) result[name]?.dispose();
    }
  }
}

/**
 * onnxruntime-node behind the ModelRuntime port. Sessions are cached per process by model,
 * version and artifact sha256 (a re-registered artifact never reuses a stale session), bounded
 * by the summed artifact size with least-recently-used eviction.
 */
export class OnnxModelRuntime implements ModelRuntime {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxCacheBytes: number;
  private readonly batchSize: number;

  constructor(options: OnnxRuntimeOptions = {}) {
    this.maxCacheBytes = options.maxCacheBytes ?? 512 * 1024 * 1024;
    this.batchSize = options.batchSize ?? 65536;
  }

  async inspect(bytes: Buffer): Promise<ModelInterface> {
    const session = await createSession(bytes);
    try {
      return interfaceOf(session);
    } finally {
      await session.release();
    }
  }

  async load(artifact: ModelArtifact): Promise<LoadedModel> {
    const key = `${artifact.model}@${artifact.version}#${artifact.sha256}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      await hit.session;
      return hit.model;
    }
    const bytes = await artifact.fetch();
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== artifact.sha256)
      throw new DomainError('ARTIFACT_INTEGRITY', `the artifact of ${artifact.model} v${artifact.version} has sha256 ${actual}, the registry says ${artifact.sha256}`);
    const session = await createSession(bytes);
    try {
      checkSignature(interfaceOf(session), artifact.signature);
    } catch (e) {
      await session.release();
      throw e;
    }
    const entry: CacheEntry = {
      bytes: bytes.length,
      session: Promise.resolve(session),
      model: new OnnxLoadedModel(artifact.signature, session, this.batchSize),
    };
    const raced = this.cache.get(key);
    if (raced) {
      await session.release();
      return raced.model;
    }
    this.cache.set(key, entry);
    await this.evict(key);
    return entry.model;
  }

  /** Number of sessions held (for tests and diagnostics). */
  get size(): number {
    return this.cache.size;
  }

  private async evict(keep: string): Promise<void> {
    let total = [...this.cache.values()].reduce((s, e) => s + e.bytes, 0);
    for (const [key, entry] of this.cache) {
      if (total <= this.maxCacheBytes) break;
      if (key === keep) continue;
      this.cache.delete(key);
      total -= entry.bytes;
      await (await entry.session).release();
    }
  }

  async close(): Promise<void> {
    const entries = [...this.cache.values()];
    this.cache.clear();
    for (const e of entries) await (await e.session).release();
  }
}
