/**
 * Reading and rewriting ONNX graphs at registration, with the ONNX protobuf definitions
 * (onnx-proto) for the messages we look into and protobufjs's reader and writer for the framing.
 *
 * A rewrite copies every field it does not change byte for byte, so whatever the model holds that
 * these (ONNX 1.10) definitions do not know (newer fields, metadata) is kept: only the ZipMap
 * nodes and the graph outputs they wrote are replaced. The same upload always gives the same
 * bytes, so the rewritten artifact's sha256 is stable.
 */
import { onnx } from 'onnx-proto';
import { Reader, Writer } from 'protobufjs/minimal';

import { errors } from '../../domain/errors';
import type { GraphClassLabels } from '../../ports/model-runtime';

/** Field numbers of onnx.proto used here. */
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_OUTPUT = 12;
const GRAPH_VALUE_INFO = 13;
const LENGTH_DELIMITED = 2;

/** One field of a message as it is on the wire: where it starts and ends, and its payload if length-delimited. */
interface WireField {
  field: number;
  raw: Uint8Array;
  payload?: Uint8Array;
}

function fieldsOf(bytes: Uint8Array): WireField[] {
  const reader = Reader.create(bytes);
  const fields: WireField[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const field = tag >>> 3;
    if ((tag & 7) === LENGTH_DELIMITED) {
      const payload = reader.bytes();
      fields.push({ field, raw: bytes.subarray(start, reader.pos), payload });
    } else {
      reader.skipType(tag & 7);
      fields.push({ field, raw: bytes.subarray(start, reader.pos) });
    }
  }
  return fields;
}

const lengthDelimited = (field: number, payload: Uint8Array): Uint8Array =>
  Writer.create()
    .uint32((field << 3) | LENGTH_DELIMITED)
    .bytes(payload)
    .finish();

const concat = (parts: readonly Uint8Array[]) =>
  Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

/** An attribute's value as numbers (ints decode as Long objects or numbers) or strings. */
function attribute(node: onnx.INodeProto, name: string): { ints?: number[]; strings?: string[] } | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  if (a.ints && a.ints.length > 0) return { ints: a.ints.map((i) => Number(i)) };
  if (a.strings && a.strings.length > 0)
    return { strings: a.strings.map((s) => Buffer.from(s).toString('utf8')) };
  return undefined;
}

const nodeName = (node: onnx.INodeProto) =>
  `${node.opType ?? ''} '${node.name || (node.output ?? []).join(', ')}'`;

/** Class labels as a node's attributes give them, strings or integer ids. */
function labelsOf(
  node: onnx.INodeProto,
  stringsAttribute: string,
  intsAttribute: string,
): GraphClassLabels | undefined {
  const strings = attribute(node, stringsAttribute)?.strings;
  if (strings) return { labels: strings, from: nodeName(node) };
  const ids = attribute(node, intsAttribute)?.ints;
  if (ids) return { labels: ids.map(String), ids, from: nodeName(node) };
  return undefined;
}

/** Classifier operators of ai.onnx.ml and the attributes naming their classes. */
const CLASSIFIERS: Record<string, [strings: string, ints: string]> = {
  LinearClassifier: ['classlabels_strings', 'classlabels_ints'],
  SVMClassifier: ['classlabels_strings', 'classlabels_ints'],
  TreeEnsembleClassifier: ['classlabels_strings', 'classlabels_int64s'],
};

/**
 * Where tensors sit in a model, by field number (onnx.proto): the messages that hold tensors, and
 * the fields of each that lead to a tensor or to another such message.
 */
type Holder = 'model' | 'training' | 'graph' | 'function' | 'node' | 'attribute' | 'sparse' | 'tensor';
const LEADS: Record<Exclude<Holder, 'tensor'>, Record<number, Holder>> = {
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  training: { 1: 'graph', 2: 'graph' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  function: { 7: 'node' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
};
const TENSOR_NAME = 8;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;

/** The value of a varint field, from its bytes on the wire (tag first). */
function varintOf(raw: Uint8Array): number {
  const reader = Reader.create(raw);
  reader.uint32();
  return reader.uint32();
}

/** The name of the first tensor whose data lives outside the model (external data), if any. */
function externalTensor(bytes: Uint8Array, holder: Holder): string | undefined {
  const fields = fieldsOf(bytes);
  if (holder === 'tensor') {
    const external = fields.some(
      (f) => f.field === TENSOR_EXTERNAL_DATA || (f.field === TENSOR_DATA_LOCATION && !f.payload && varintOf(f.raw) !== 0),
    );
    if (!external) return undefined;
    const name = fields.find((f) => f.field === TENSOR_NAME && f.payload)?.payload;
    return name ? Buffer.from(name).toString('utf8') : '(unnamed)';
  }
  for (const f of fields) {
    const next = LEADS[holder][f.field];
    const found = next && f.payload ? externalTensor(f.payload, next) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Refuses a model that keeps tensor data in external files. onnxruntime resolves such a file
 * against the process's working directory when the model comes as bytes, so a crafted model
 * would read the host's own files (local.settings.json, ...) into its weights and out through
 * its predictions. Scoring needs the model in one file anyway.
 */
export function assertSelfContained(bytes: Uint8Array): void {
  let name: string | undefined;
  try {
    name = externalTensor(bytes, 'model');
  } catch (e) {
    throw errors.unsupportedModel(`the artifact is not an ONNX model: ${(e as Error).message}`);
  }
  if (name !== undefined)
    throw errors.unsupportedModel(
      `the tensor '${name.slice(0, 200)}' keeps its data in an external file: save the model as one file, every tensor inside it ` +
        '(onnx.save_model(model, path, save_as_external_data=False))',
      { tensor: name.slice(0, 200) },
    );
}

/** Operators that hand their one input on unchanged but for its element type. */
const PASS_THROUGH = new Set(['Identity', 'Cast']);

/**
 * The class labels the graph's classifier nodes give: the one node's; among several, those of the
 * node whose outputs are the graph's (directly or through Identity / Cast, as skl2onnx casts
 * `label` to `output_label`), else those every node names when they are as many as the columns
 * of the graph's probabilities output (a VotingClassifier: each estimator names the model's
 * classes). A OneVsRestClassifier's nodes are binary (classes [0, 1] each) under a probabilities
 * output of one column per class: they say nothing about its classes, and it names none.
 */
function classifierLabels(nodes: readonly onnx.INodeProto[], graphOutputs: readonly onnx.IValueInfoProto[]): GraphClassLabels | undefined {
  const classifiers = nodes.filter(
    (node) => (node.domain ?? '') === 'ai.onnx.ml' && Object.hasOwn(CLASSIFIERS, node.opType ?? ''),
  );
  const labels = (node: onnx.INodeProto) => labelsOf(node, ...CLASSIFIERS[node.opType!]!);
  if (classifiers.length <= 1) return classifiers[0] ? labels(classifiers[0]) : undefined;
  const writer = new Map<string, onnx.INodeProto>();
  for (const node of nodes) for (const out of node.output ?? []) writer.set(out, node);
  for (const output of graphOutputs) {
    let node = writer.get(output.name ?? '');
    for (let hops = 0; node && PASS_THROUGH.has(node.opType ?? '') && (node.domain ?? '') === '' && hops < nodes.length; hops += 1)
      node = writer.get(node.input?.[0] ?? '');
    if (node && classifiers.includes(node)) return labels(node);
  }
  const named = classifiers.map(labels);
  const first = named[0];
  if (!first || named.some((l) => JSON.stringify(l?.labels) !== JSON.stringify(first.labels))) return undefined;
  const widths = graphOutputs.map((o) => {
    const t = o.type?.tensorType;
    const dims = t?.shape?.dim ?? [];
    const float = t?.elemType === onnx.TensorProto.DataType.FLOAT || t?.elemType === onnx.TensorProto.DataType.DOUBLE;
    return float && dims.length === 2 ? Number(dims[1]?.dimValue ?? 0) : 0;
  });
  return widths.includes(first.labels.length) ? { ...first, from: `${classifiers.length} classifier nodes (${first.from}, ...)` } : undefined;
}

export interface RewrittenGraph {
  bytes: Buffer;
  rewrites: string[];
  classLabels?: GraphClassLabels;
}

/**
 * Rewrites a classifier that ends in ZipMap (skl2onnx's default) so that the float tensor the
 * ZipMap reads is the graph output instead of the ZipMap's sequence of maps; the ZipMap's class
 * labels are returned (else those of the graph's classifier node). A graph without ZipMap comes
 * back as it is. UNSUPPORTED_MODEL when the bytes are not an ONNX model, or when a ZipMap's
 * output feeds another node (nothing to cut off then).
 */
export function rewriteExporterHabits(bytes: Buffer): RewrittenGraph {
  let modelFields: WireField[];
  let graphFields: WireField[];
  try {
    modelFields = fieldsOf(bytes);
    const graph = modelFields.find((f) => f.field === MODEL_GRAPH && f.payload);
    if (!graph) throw new Error('no graph');
    graphFields = fieldsOf(graph.payload!);
  } catch (e) {
    throw errors.unsupportedModel(`the artifact is not an ONNX model: ${(e as Error).message}`);
  }
  const nodes = graphFields
    .filter((f) => f.field === GRAPH_NODE)
    .map((f) => ({ f, node: onnx.NodeProto.decode(f.payload!) }));
  const outputs = graphFields
    .filter((f) => f.field === GRAPH_OUTPUT)
    .map((f) => ({ f, value: onnx.ValueInfoProto.decode(f.payload!) }));
  const zipMaps = nodes.filter(
    ({ node }) => node.opType === 'ZipMap' && (node.domain ?? '') === 'ai.onnx.ml',
  );
  const fromClassifier = classifierLabels(
    nodes.map(({ node }) => node),
    outputs.map(({ value }) => value),
  );
  if (zipMaps.length === 0)
    return { bytes, rewrites: [], ...(fromClassifier ? { classLabels: fromClassifier } : {}) };

  const dropped = new Set<WireField>();
  const replaced = new Map<WireField, Uint8Array>();
  const rewrites: string[] = [];
  let classLabels = fromClassifier;
  for (const { f, node } of zipMaps) {
    const input = node.input?.[0];
    const output = node.output?.[0];
    const graphOutput = outputs.find((o) => o.value.name === output);
    const readers = nodes.filter(
      ({ node: other }) => other !== node && (other.input ?? []).includes(output ?? ''),
    );
    if (!input || !output || !graphOutput || readers.length > 0)
      throw errors.unsupportedModel(
        `${nodeName(node)} does not end the graph (its output feeds ${readers.map((r) => nodeName(r.node)).join(', ') || 'no graph output'}): export the classifier without ZipMap (options={id(model): {'zipmap': False}})`,
      );
    const labels = labelsOf(node, 'classlabels_strings', 'classlabels_int64s');
    if (!labels) throw errors.unsupportedModel(`${nodeName(node)} names no class labels`);
    classLabels = labels;
    dropped.add(f);
    // The ZipMap's input is a float tensor [batch, classes] by the operator's definition.
    const tensor = onnx.ValueInfoProto.encode({
      name: input,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [{ dimParam: 'N' }, { dimValue: labels.labels.length }] },
        },
      },
    }).finish();
    replaced.set(graphOutput.f, lengthDelimited(GRAPH_OUTPUT, tensor));
    // value_info describing the removed sequence, or the new output, would contradict it.
    for (const g of graphFields)
      if (
        g.field === GRAPH_VALUE_INFO &&
        [input, output].includes(onnx.ValueInfoProto.decode(g.payload!).name)
      )
        dropped.add(g);
    rewrites.push(
      `${nodeName(node)} removed: the output '${output}' (a sequence of maps) is now its input '${input}', float [N, ${labels.labels.length}], classes ${JSON.stringify(labels.labels)}`,
    );
  }
  const graph = concat(graphFields.filter((g) => !dropped.has(g)).map((g) => replaced.get(g) ?? g.raw));
  const model = concat(
    modelFields.map((m) =>
      m.field === MODEL_GRAPH && m.payload ? lengthDelimited(MODEL_GRAPH, graph) : m.raw,
    ),
  );
  return { bytes: model, rewrites, ...(classLabels ? { classLabels } : {}) };
}
