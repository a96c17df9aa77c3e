/** The ONNX signature of a model version: one definition, in the registry's model-version schema. */
export {
  type ModelSignature,
  modelSignatureSchema,
  type TensorSpec,
  tensorSpecSchema,
  tensorTypeSchema,
} from './model-version';
