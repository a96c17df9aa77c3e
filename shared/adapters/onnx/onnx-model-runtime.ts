import { createHash } from 'node:crypto';

import * as ort from 'onnxruntime-node';

import { errors } from '../../domain/errors';
import type { InputTensor, ModelInputs } from '../../domain/model-inputs';
import { checkSignature, integerLabelMapper, type SignatureRoles, signatureRoles } from '../../domain/signature-roles';
import type {
  LoadedModel,
  ModelArtifact,
  ModelInterface,
  ModelRuntime,
  Predictions,
  PreparedArtifact,
} from '../../ports/model-runtime';
import type { TensorSpec } from '../../schemas/signature';
import { tensorTypeSchema } from '../../schemas/signature';
import { assertSelfContained, rewriteExporterHabits } from './onnx-graph';

export interface OnnxRuntimeOptions {
  /** Upper bound on the summed size of loaded ONNX artifacts; least recently used are released. */
  maxCacheBytes?: number;
  /** Rows per `session.run` call. */
  batchSize?: number;
}

export const ZIPMAP_HINT =
  'registration rewrites a classifier ending in ZipMap (mlops check shows the rewrite); to load the graph directly, ' +
  "export it without ZipMap: with skl2onnx, `to_onnx(model, X, options={id(model): {'zipmap': False}})`";

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

/**
 * onnxruntime's message without the C++ source location and function signature it starts with
 * (`/onnxruntime_src/.../model.cc:202 onnxruntime::Model::Model(...) Unsupported model IR
 * version: 99, ...`): the registrant needs the reason, not the runtime's internals.
 */
export function runtimeReason(message: string): string {
  return message.replace(/\S+\.(?:cc|cpp|h|hpp):\d+ (?:(?:[\w:]+ )?[\w:~]+\((?:[^()]|\([^()]*\))*\)(?: const)? )?/g, '').trim();
}

async function createSession(bytes: Buffer): Promise<ort.InferenceSession> {
  assertSelfContained(bytes);
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
    throw errors.unsupportedModel(`onnxruntime cannot load the model: ${runtimeReason((e as Error).message)}`);
  }
}

function interfaceOf(session: ort.InferenceSession): ModelInterface {
  return { inputs: describe(session.inputMetadata, 'input'), outputs: describe(session.outputMetadata, 'output') };
}

/** A slice of rows [start, start + n) of an input as an onnxruntime tensor. */
function tensorOf(t: InputTensor, start: number, n: number): ort.Tensor {
  let width = 1;
  for (const d of t.rowShape) width *= d;
  const dims = [n, ...t.rowShape];
  const from = start * width;
  const to = (start + n) * width;
  switch (t.type) {
    case 'string':
      return new ort.Tensor('string', t.values.slice(from, to), dims);
    case 'float32':
      return new ort.Tensor('float32', t.values.subarray(from, to), dims);
    case 'float64':
      return new ort.Tensor('float64', t.values.subarray(from, to), dims);
    case 'int64':
      return new ort.Tensor('int64', t.values.subarray(from, to), dims);
    case 'int32':
      return new ort.Tensor('int32', t.values.subarray(from, to), dims);
    case 'bool':
      return new ort.Tensor('bool', t.values.subarray(from, to), dims);
  }
}

/**
 * Turns a label output's values into class labels (text as it is; integers by integerLabelMapper).
 * A value that is none of the classes fails: its row would carry a prediction that has no
 * probability column, read against class labels the graph does not use (text is taken as it is
 * when no class labels are given).
 */
function labelReader(classLabels: readonly string[]): (data: ort.Tensor['data'], i: number) => string {
  const byInteger = integerLabelMapper(classLabels);
  // Without class labels (a runtime loaded for the graph alone) text is taken as it is.
  const classes = classLabels.length > 0 ? new Set(classLabels) : undefined;
  return (data, i) => {
    const v = (data as ArrayLike<unknown>)[i];
    const label = typeof v === 'string' ? (!classes || classes.has(v) ? v : undefined) : byInteger(Number(v));
    if (label === undefined)
      throw errors.signatureMismatch(`the model's label output gave ${typeof v === 'string' ? JSON.stringify(v) : String(v)}, which is none of the classes ${JSON.stringify(classLabels)}`);
    return label;
  };
}

/** One row of the matrix, twice over. */
type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** A one-row tensor as two identical rows. */
function twiceOf(tensor: ort.Tensor): ort.Tensor {
  const dims = [tensor.dims[0]! * 2, ...tensor.dims.slice(1)];
  if (tensor.type === 'string') {
    const texts = tensor.data as string[];
    return new ort.Tensor('string', [...texts, ...texts], dims);
  }
  const data = tensor.data as TypedData;
  const out = new (data.constructor as new (length: number) => TypedData)(data.length * 2);
  out.set(data as never);
  out.set(data as never, data.length);
  return new ort.Tensor(tensor.type, out as never, dims);
}

class OnnxLoadedModel implements LoadedModel {
  private running = 0;
  private retired: (() => void) | undefined;
  private readonly readLabel: ReturnType<typeof labelReader>;

  constructor(
    readonly roles: SignatureRoles,
    private readonly inputs: readonly TensorSpec[],
    private readonly classLabels: readonly string[],
    private readonly session: ort.InferenceSession,
    private readonly batchSize: number,
  ) {
    this.readLabel = labelReader(classLabels);
  }

  /** Releases the session once no predict call is using it (an evicted model may still be running). */
  retire(): Promise<void> {
    if (this.running === 0) return this.session.release();
    return new Promise((resolve, reject) => {
      this.retired = () => void this.session.release().then(resolve, reject);
    });
  }

  async predict(inputs: ModelInputs): Promise<Predictions> {
    if (this.retired) throw new Error('this model was evicted from the runtime cache: load it again');
    this.running += 1;
    try {
      return await this.run(inputs);
    } finally {
      this.running -= 1;
      const release = this.retired as (() => void) | undefined;
      if (this.running === 0 && release) release();
    }
  }

  /** One tensor per graph input, each of the graph's element type and fixed dimensions. */
  private checkInputs(inputs: ModelInputs): void {
    const fed = new Map(inputs.tensors.map((t) => [t.name, t]));
    const problems: string[] = [];
    for (const spec of this.inputs) {
      const t = fed.get(spec.name);
      if (!t) problems.push(`nothing feeds the input '${spec.name}'`);
      else if (t.type !== spec.type) problems.push(`the input '${spec.name}' is ${spec.type}, it is fed ${t.type}`);
      else if (spec.shape.length !== t.rowShape.length + 1 || t.rowShape.some((d, i) => typeof spec.shape[i + 1] === 'number' && spec.shape[i + 1] !== -1 && spec.shape[i + 1] !== d))
        problems.push(
          spec.shape.length === 2 && t.rowShape.length === 1
            ? `the transforms produce ${t.rowShape[0]} features, the model takes ${String(spec.shape[1])}`
            : `the input '${spec.name}' has shape [N, ${spec.shape.slice(1).join(', ')}], it is fed [N, ${t.rowShape.join(', ')}]`,
        );
    }
    for (const t of inputs.tensors) if (!this.inputs.some((s) => s.name === t.name)) problems.push(`the graph has no input '${t.name}'`);
    if (problems.length > 0) throw errors.signatureMismatch(`the model's inputs do not fit: ${problems.join('; ')}`, { problems });
  }

  private async run(inputs: ModelInputs): Promise<Predictions> {
    this.checkInputs(inputs);
    const roles = this.roles;
    const rows = inputs.rows;
    if (roles.kind === 'regression') {
      const values = new Float64Array(rows);
      await this.forBatches(inputs, [roles.prediction], (start, n, fed, result) => {
        const data = result[roles.prediction]!.data as Float32Array | Float64Array;
        if (data.length !== fed) throw errors.signatureMismatch(`the model returned ${data.length} values for ${fed} rows`);
        values.set(data.subarray(0, n), start);
      });
      return { kind: 'regression', rows, values };
    }
    const classCount = roles.classCount;
    const labels: string[] = new Array<string>(rows);
    const fetches = [roles.probabilities, ...(roles.label ? [roles.label] : [])];
    let probabilities: Float32Array | Float64Array | undefined;
    await this.forBatches(inputs, fetches, (start, n, fed, result) => {
      const p = result[roles.probabilities]!.data as Float32Array | Float64Array;
      probabilities ??= roles.layout === 'positive' || p instanceof Float64Array ? new Float64Array(rows * classCount) : new Float32Array(rows * classCount);
      const expected = roles.layout === 'positive' ? fed : fed * classCount;
      if (p.length !== expected) throw errors.signatureMismatch(`the model returned ${p.length} probabilities for ${fed} rows and ${classCount} classes`);
      if (roles.layout === 'positive')
        for (let i = 0; i < n; i += 1) {
          probabilities[(start + i) * 2] = 1 - p[i]!;
          probabilities[(start + i) * 2 + 1] = p[i]!;
        }
      else probabilities.set(p.subarray(0, n * classCount), start * classCount);
      if (roles.label) {
        const labelData = result[roles.label]!.data;
        if (labelData.length !== fed) throw errors.signatureMismatch(`the model returned ${labelData.length} labels for ${fed} rows`);
        for (let i = 0; i < n; i += 1) labels[start + i] = this.readLabel(labelData, i);
      } else for (let i = 0; i < n; i += 1) labels[start + i] = this.likeliest(probabilities, start + i, classCount);
    });
    return { kind: 'classification', rows, labels, probabilities: probabilities ?? new Float32Array(0), classCount };
  }

  /** The class with the highest probability (the first on ties, as numpy.argmax). */
  private likeliest(probabilities: Float32Array | Float64Array, row: number, classCount: number): string {
    let best = 0;
    for (let c = 1; c < classCount; c += 1) if (probabilities[row * classCount + c]! > probabilities[row * classCount + best]!) best = c;
    const label = this.classLabels[best];
    if (label === undefined) throw errors.signatureMismatch(`the model has ${classCount} classes and no label output, and the definition names no class labels`);
    return label;
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
    inputs: ModelInputs,
    fetches: string[],
    take: (start: number, n: number, fed: number, result: ort.InferenceSession.OnnxValueMapType) => void,
  ): Promise<void> {
    for (let start = 0; start < inputs.rows; start += this.batchSize) {
      const n = Math.min(this.batchSize, inputs.rows - start);
      // A lone row is fed twice (the first answer kept): see above.
      const fed = Math.max(n, 2);
      const feed: Record<string, ort.Tensor> = {};
      for (const t of inputs.tensors) feed[t.name] = fed === n ? tensorOf(t, start, n) : twiceOf(tensorOf(t, start, n));
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

  async prepare(bytes: Buffer): Promise<PreparedArtifact> {
    const graph = rewriteExporterHabits(bytes);
    const iface = await this.inspect(graph.bytes);
    return { bytes: graph.bytes, rewrites: graph.rewrites, interface: iface, ...(graph.classLabels ? { classLabels: graph.classLabels } : {}) };
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
    // The signature, task and classes decide which outputs are read and how: part of the key, so
    // a registration retried with another signature never gets the roles of an earlier attempt.
    const reading = JSON.stringify([artifact.signature, artifact.task, artifact.classLabels ?? null]);
    const key = `${artifact.model}@${artifact.version}#${artifact.sha256}#${createHash('sha256').update(reading).digest('hex')}`;
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
    const entry: CacheEntry = {
      bytes: bytes.length,
      model: new OnnxLoadedModel(roles, artifact.signature.inputs, artifact.classLabels ?? [], session, this.batchSize),
    };
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
