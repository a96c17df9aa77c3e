import { onnx } from 'onnx-proto';

import type { LinearCoefficients } from '../../domain/training/least-squares';
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

/** z = X W + B: the affine part both models share, output `logit` or `variable`. */
function affine(model: LinearCoefficients, output: string) {
  const k = model.weights.length;
  return {
    nodes: [
      { opType: 'MatMul', input: [INPUT, 'W'], output: ['xw'], name: 'matmul' },
      { opType: 'Add', input: ['xw', 'B'], output: [output], name: 'add' },
    ] satisfies onnx.INodeProto[],
    initializers: [
      { name: 'W', dataType: T.FLOAT, dims: [k, 1], floatData: model.weights },
      { name: 'B', dataType: T.FLOAT, dims: [1], floatData: [model.bias] },
    ] satisfies onnx.ITensorProto[],
    input: { name: INPUT, type: tensorType(T.FLOAT, ['N', k]) },
  };
}

/** ONNX graphs for the built-in trainer's linear and logistic regressions (onnx-proto). */
export class OnnxModelExporter implements ModelExporter {
  linearRegression(model: LinearCoefficients): ExportedModel {
    const k = model.weights.length;
    const core = affine(model, 'variable');
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
    const core = affine(model, 'logit');
    return {
      bytes: encode('logistic_regression', {
        node: [
          ...core.nodes,
          { opType: 'Sigmoid', input: ['logit'], output: ['p1'], name: 'sigmoid' },
          { opType: 'Sub', input: ['one', 'p1'], output: ['p0'], name: 'complement' },
          { opType: 'Concat', input: ['p0', 'p1'], output: ['probabilities'], name: 'concat', attribute: [intAttribute('axis', 1)] },
          // Ties (p = 0.5) go to the first class, as numpy's argmax does.
          {
            opType: 'ArgMax',
            input: ['probabilities'],
            output: ['class_index'],
            name: 'argmax',
            attribute: [intAttribute('axis', 1), intAttribute('keepdims', 0)],
          },
          { opType: 'Gather', input: ['class_labels', 'class_index'], output: ['label'], name: 'label', attribute: [intAttribute('axis', 0)] },
        ],
        initializer: [
          ...core.initializers,
          { name: 'one', dataType: T.FLOAT, dims: [1], floatData: [1] },
          { name: 'class_labels', dataType: T.STRING, dims: [2], stringData: classLabels.map((l) => Buffer.from(l, 'utf8')) },
        ],
        input: [core.input],
        output: [
          { name: 'label', type: tensorType(T.STRING, ['N']) },
          { name: 'probabilities', type: tensorType(T.FLOAT, ['N', 2]) },
        ],
      }),
      signature: {
        inputs: [{ name: INPUT, type: 'float32', shape: ['N', k] }],
        outputs: [
          { name: 'label', type: 'string', shape: ['N'] },
          { name: 'probabilities', type: 'float32', shape: ['N', 2] },
        ],
      },
      opset: OPSET,
    };
  }
}
