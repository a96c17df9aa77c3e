import { onnx } from 'onnx-proto';

import { errors } from '../../domain/errors';
import type { LinearCoefficients } from '../../domain/training/least-squares';
import type { MultinomialCoefficients } from '../../domain/training/multinomial';
import type { ExportedModel, ModelExporter } from '../../ports/model-exporter';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const OPSET = 13;
const INPUT = 'features';

function tensorType(elemType: number, dims: (number | string)[]): onnx.ITypeProto {
  return { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } };
}

const intAttribute = (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i });

function encode(name: string, graph: Omit<onnx.IGraphProto, 'name'>): Buffer {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'mlops-builtin-trainer',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name, ...graph },
  });
  return Buffer.from(onnx.ModelProto.encode(model).finish());
}

/** z = X W + B with W [width, outputs] row-major and B [outputs]: the affine part every model shares. */
function affine(width: number, weights: number[], biases: number[], output: string) {
  return {
    nodes: [
      { opType: 'MatMul', input: [INPUT, 'W'], output: ['xw'], name: 'matmul' },
      { opType: 'Add', input: ['xw', 'B'], output: [output], name: 'add' },
    ] satisfies onnx.INodeProto[],
    initializers: [
      { name: 'W', dataType: T.FLOAT, dims: [width, biases.length], floatData: weights },
      { name: 'B', dataType: T.FLOAT, dims: [biases.length], floatData: biases },
    ] satisfies onnx.ITensorProto[],
    input: { name: INPUT, type: tensorType(T.FLOAT, ['N', width]) },
  };
}

const oneOutput = (model: LinearCoefficients, output: string) => affine(model.weights.length, model.weights, [model.bias], output);

/**
 * The nodes that end a classifier: ArgMax of the probabilities, ties to the first class as
 * numpy's argmax, and Gather of that class's label: the outputs `label` [N] and `probabilities`
 * [N, classes] the scoring pipeline reads.
 */
function classifierEnd(classLabels: readonly string[]) {
  const classes = classLabels.length;
  return {
    nodes: [
      { opType: 'ArgMax', input: ['probabilities'], output: ['class_index'], name: 'argmax', attribute: [intAttribute('axis', 1), intAttribute('keepdims', 0)] },
      { opType: 'Gather', input: ['class_labels', 'class_index'], output: ['label'], name: 'label', attribute: [intAttribute('axis', 0)] },
    ] satisfies onnx.INodeProto[],
    initializers: [{ name: 'class_labels', dataType: T.STRING, dims: [classes], stringData: classLabels.map((l) => Buffer.from(l, 'utf8')) }] satisfies onnx.ITensorProto[],
    outputs: [
      { name: 'label', type: tensorType(T.STRING, ['N']) },
      { name: 'probabilities', type: tensorType(T.FLOAT, ['N', classes]) },
    ],
    signature: [
      { name: 'label', type: 'string' as const, shape: ['N'] },
      { name: 'probabilities', type: 'float32' as const, shape: ['N', classes] },
    ],
  };
}

/** ONNX graphs for the built-in trainer's linear and logistic regressions (onnx-proto). */
export class OnnxModelExporter implements ModelExporter {
  linearRegression(model: LinearCoefficients): ExportedModel {
    const k = model.weights.length;
    const core = oneOutput(model, 'variable');
    return {
      bytes: encode('linear_regression', {
        node: core.nodes,
        initializer: core.initializers,
        input: [core.input],
        output: [{ name: 'variable', type: tensorType(T.FLOAT, ['N', 1]) }],
      }),
      signature: {
        inputs: [{ name: INPUT, type: 'float32', shape: ['N', k] }],
        outputs: [{ name: 'variable', type: 'float32', shape: ['N', 1] }],
      },
      opset: OPSET,
    };
  }

  logisticRegression(model: LinearCoefficients, classLabels: readonly [string, string]): ExportedModel {
    const k = model.weights.length;
    const core = oneOutput(model, 'logit');
    const end = classifierEnd(classLabels);
    return {
      bytes: encode('logistic_regression', {
        node: [
          ...core.nodes,
          { opType: 'Sigmoid', input: ['logit'], output: ['p1'], name: 'sigmoid' },
          { opType: 'Sub', input: ['one', 'p1'], output: ['p0'], name: 'complement' },
          { opType: 'Concat', input: ['p0', 'p1'], output: ['probabilities'], name: 'concat', attribute: [intAttribute('axis', 1)] },
          ...end.nodes,
        ],
        initializer: [...core.initializers, { name: 'one', dataType: T.FLOAT, dims: [1], floatData: [1] }, ...end.initializers],
        input: [core.input],
        output: end.outputs,
      }),
      signature: { inputs: [{ name: INPUT, type: 'float32', shape: ['N', k] }], outputs: end.signature },
      opset: OPSET,
    };
  }

  multinomialLogisticRegression(model: MultinomialCoefficients, classLabels: readonly string[]): ExportedModel {
    const classes = classLabels.length;
    const width = model.weights[0]?.length ?? 0;
    if (model.weights.length !== classes || model.biases.length !== classes || model.weights.some((w) => w.length !== width)) {
      throw errors.validation(`${classes} class labels, but weights for ${model.weights.length} classes and ${model.biases.length} intercepts`);
    }
    // MatMul takes W as [width, classes]: column c is class c's weight row.
    const weights = Array.from({ length: width * classes }, (_, i) => model.weights[i % classes]![Math.floor(i / classes)]!);
    const core = affine(width, weights, model.biases, 'logits');
    const end = classifierEnd(classLabels);
    return {
      bytes: encode('multinomial_logistic_regression', {
        node: [...core.nodes, { opType: 'Softmax', input: ['logits'], output: ['probabilities'], name: 'softmax', attribute: [intAttribute('axis', 1)] }, ...end.nodes],
        initializer: [...core.initializers, ...end.initializers],
        input: [core.input],
        output: end.outputs,
      }),
      signature: { inputs: [{ name: INPUT, type: 'float32', shape: ['N', width] }], outputs: end.signature },
      opset: OPSET,
    };
  }
}
