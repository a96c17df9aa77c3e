import { createHash } from 'node:crypto';

import * as ort from 'onnxruntime-node';

import { errors } from '../../domain/errors';
import { type SignatureRoles, signatureRoles } from '../../domain/signature-roles';
import type { FeatureMatrix } from '../../domain/tabular';
import type { LoadedModel, ModelArtifact, ModelInterface, ModelRuntime, Predictions } from '../../ports/model-runtime';
import type { ModelSignature, TensorSpec } from '../../schemas/signature';
import { tensorTypeSchema } from '../../schemas/signature';

export interface OnnxRuntimeOptions {
  /** Upper bound on the summed size of loaded ONNX artifacts; least recently used are released. */
  maxCacheBytes?: number;
  /** Rows per `session.run` call. */
  batchSize?: number;
}

export const ZIPMAP_HINT =
  'export the classifier without ZipMap so probabilities are a tensor: with skl2onnx, ' +
  "`to_onnx(model, X, options={id(model): {'zipmap': False}})` (or the same `options` in `convert_sklearn`)";

function describe(meta: readonly ort.InferenceSession.ValueMetadata[], where: string): TensorSpec[] {
  return meta.map((m) => {
    if (!m.isTensor) {
      throw errors.unsupportedModel(`${where} '${m.name}' is not a tensor (a ZipMap or sequence output): ${ZIPMAP_HINT}`, {
        [where]: m.name,
      });
    }
    const type = tensorTypeSchema.safeParse(m.type);
    if (!type.success) throw errors.unsupportedModel(`${where} '${m.name}' has element type ${m.type}, which scoring does not handle`);
    return { name: m.name, type: type.data, shape: m.shape.map((d) => (typeof d === 'number' ? d : d || -1)) };
  });
}

async function createSession(bytes: Buffer): Promise<ort.InferenceSession> {
  try {
    // One thread per session: chunks already run in parallel on every core (one scorer per
    // core), and onnxruntime's own pool would spin-wait against them for a share of the CPU.
    return await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      enableCpuMemArena: false,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
  } catch (e) {
    throw errors.unsupportedModel(`onnxruntime cannot load the model: ${(e as Error).message}`);
  }
}

function interfaceOf(session: ort.InferenceSession): ModelInterface {
  return { inputs: describe(session.inputMetadata, 'input'), outputs: describe(session.outputMetadata, 'output') };
}

const showShape = (shape: (number | string)[]) => `[${shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 'N')).join(', ')}]`;
const dynamic = (d: number | string | undefined) => typeof d !== 'number' || d < 0;

function checkTensor(expected: TensorSpec, actual: TensorSpec | undefined, role: string): string[] {
  if (!actual) return [`${role} '${expected.name}' is not in the graph`];
  const problems: string[] = [];
  if (actual.type !== expected.type) problems.push(`${role} '${expected.name}' is ${actual.type}, the signature says ${expected.type}`);
  const fits =
    actual.shape.length === expected.shape.length &&
    expected.shape.every((d, i) => dynamic(d) || dynamic(actual.shape[i]) || actual.shape[i] === d);
  // onnxruntime reports an empty shape when the graph leaves it undeclared: nothing to compare.
  if (actual.shape.length > 0 && !fits)
    problems.push(`${role} '${expected.name}' has shape ${showShape(actual.shape)}, the signature says ${showShape(expected.shape)}`);
  return problems;
}

/** Compares the graph with the version's signature; every problem is listed in one error. */
export function checkSignature(graph: ModelInterface, signature: ModelSignature): void {
  const problems: string[] = [];
  for (const spec of signature.inputs) problems.push(...checkTensor(spec, graph.inputs.find((t) => t.name === spec.name), 'input'));
  for (const spec of signature.outputs) problems.push(...checkTensor(spec, graph.outputs.find((t) => t.name === spec.name), 'output'));
  for (const t of graph.inputs)
    if (!signature.inputs.some((s) => s.name === t.name)) problems.push(`the graph input '${t.name}' is not in the signature`);
  if (problems.length > 0)
    throw errors.signatureMismatch(`the ONNX graph does not match the signature: ${problems.join('; ')}`, { problems });
}

function labelText(data: ort.Tensor['data'], i: number): string {
  const v = (data as ArrayLike<unknown>)[i];
  return typeof v === 'string' ? v : String(v);
}

/** One row of the matrix, twice over. */
function twice(row: Float32Array): Float32Array {
  const out = new Float32Array(row.length * 2);
  out.set(row);
  out.set(row, row.length);
  return out;
}

class OnnxLoadedModel implements LoadedModel {
  private running = 0;
  private retired: (() => void) | undefined;

  constructor(
    readonly roles: SignatureRoles,
    private readonly session: ort.InferenceSession,
    private readonly batchSize: number,
  ) {}

  /** Releases the session once no predict call is using it (an evicted model may still be running). */
  retire(): Promise<void> {
    if (this.running === 0) return this.session.release();
    return new Promise((resolve, reject) => {
      this.retired = () => void this.session.release().then(resolve, reject);
    });
  }

  async predict(matrix: FeatureMatrix): Promise<Predictions> {
    if (this.retired) throw new Error('this model was evicted from the runtime cache: load it again');
    this.running += 1;
    try {
      return await this.run(matrix);
    } finally {
      this.running -= 1;
      const release = this.retired as (() => void) | undefined;
      if (this.running === 0 && release) release();
    }
  }

  private async run(matrix: FeatureMatrix): Promise<Predictions> {
    const roles = this.roles;
    if (matrix.width !== roles.width)
      throw errors.signatureMismatch(`the transforms produce ${matrix.width} features, the model takes ${roles.width}`);
    const rows = matrix.rows;
    if (roles.kind === 'regression') {
      const values = new Float64Array(rows);
      await this.forBatches(matrix, [roles.prediction], (start, n, fed, result) => {
        const data = result[roles.prediction]!.data as Float32Array | Float64Array;
        if (data.length !== fed) throw errors.signatureMismatch(`the model returned ${data.length} values for ${fed} rows`);
        values.set(data.subarray(0, n), start);
      });
      return { kind: 'regression', rows, values };
    }
    const classCount = roles.classCount;
    const labels: string[] = new Array<string>(rows);
    const probabilities = new Float32Array(rows * classCount);
    await this.forBatches(matrix, [roles.label, roles.probabilities], (start, n, fed, result) => {
      const labelData = result[roles.label]!.data;
      const p = result[roles.probabilities]!.data as Float32Array;
      if (p.length !== fed * classCount || labelData.length !== fed)
        throw errors.signatureMismatch(`the model returned outputs of unexpected size for ${fed} rows (${classCount} classes expected)`);
      for (let i = 0; i < n; i += 1) labels[start + i] = labelText(labelData, i);
      probabilities.set(p.subarray(0, n * classCount), start * classCount);
    });
    return { kind: 'classification', rows, labels, probabilities, classCount };
  }

  /**
   * Runs the model over `batchSize` rows at a time. A run is never one row: onnxruntime's GEMM
   * (MLAS) has a kernel of its own for a single row when the weights are not pre-packed (as in
   * ai.onnx.ml LinearRegressor and LinearClassifier, skl2onnx's linear models), and it sums in
   * another order, so the same row would score 1-2 float32 ulps apart alone and in a batch. A
   * single row is fed twice (`fed` rows) and the first answer kept. From two rows on, a row's
   * result does not depend on the others (MLAS blocks by the weights' shape, and sessions run
   * one thread, so rows are not split among threads either); onnx-model-runtime.test.ts pins it.
   */
  private async forBatches(
    matrix: FeatureMatrix,
    fetches: string[],
    take: (start: number, n: number, fed: number, result: ort.InferenceSession.OnnxValueMapType) => void,
  ): Promise<void> {
    for (let start = 0; start < matrix.rows; start += this.batchSize) {
      const n = Math.min(this.batchSize, matrix.rows - start);
      const width = matrix.width;
      const rows = matrix.values.subarray(start * width, (start + n) * width);
      const fed = Math.max(n, 2);
      const values = fed === n ? rows : twice(rows);
      const feed = { [this.roles.input]: new ort.Tensor('float32', values, [fed, width]) };
      const result = await this.session.run(feed, fetches);
      take(start, n, fed, result);
      for (const name of fetches) result[name]?.dispose();
    }
  }
}

interface CacheEntry {
  bytes: number;
  model: OnnxLoadedModel;
}

/**
 * onnxruntime-node behind the ModelRuntime port. Sessions are cached per process by model,
 * version and artifact sha256 (a re-registered artifact never reuses a stale session), bounded
 * by the summed artifact size with least-recently-used eviction; concurrent loads of one
 * version share one fetch.
 */
export class OnnxModelRuntime implements ModelRuntime {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  private readonly maxCacheBytes: number;
  private readonly batchSize: number;

  constructor(options: OnnxRuntimeOptions = {}) {
    this.maxCacheBytes = options.maxCacheBytes ?? 512 * 1024 * 1024;
    this.batchSize = options.batchSize ?? 16384;
  }

  async inspect(bytes: Buffer): Promise<ModelInterface> {
    const session = await createSession(bytes);
    try {
      return interfaceOf(session);
    } finally {
      await session.release();
    }
  }

  load(artifact: ModelArtifact): Promise<LoadedModel> {
    const key = `${artifact.model}@${artifact.version}#${artifact.sha256}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return Promise.resolve(hit.model);
    }
    const pending = this.loading.get(key) ?? this.create(key, artifact).finally(() => this.loading.delete(key));
    this.loading.set(key, pending);
    return pending;
  }

  private async create(key: string, artifact: ModelArtifact): Promise<LoadedModel> {
    const roles = signatureRoles(artifact.signature, artifact.task, artifact.classLabels);
    const bytes = await artifact.fetch();
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== artifact.sha256)
      throw errors.artifactIntegrity(
        `the artifact of ${artifact.model} v${artifact.version} has sha256 ${actual}, the registry says ${artifact.sha256}`,
      );
    const session = await createSession(bytes);
    try {
      checkSignature(interfaceOf(session), artifact.signature);
    } catch (e) {
      await session.release();
      throw e;
    }
    const entry: CacheEntry = { bytes: bytes.length, model: new OnnxLoadedModel(roles, session, this.batchSize) };
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
      void entry.model.retire();
    }
  }

  async close(): Promise<void> {
    const entries = [...this.cache.values()];
    this.cache.clear();
    for (const e of entries) await e.model.retire();
  }
}
