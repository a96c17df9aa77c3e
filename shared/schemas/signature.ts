/**
 * The ONNX signature of a model version. Same definition as the registry's
 * (shared/schemas/model-version.ts on the foundation branch): once both are on main this module
 * only re-exports it.
 */
import { z } from 'zod';

export const tensorTypeSchema = z.enum(['float32', 'float64', 'int64', 'int32', 'int8', 'uint8', 'bool', 'string']);

/** One input or output of the ONNX graph. Dynamic dimensions are -1 or a symbolic name ("batch"). */
export const tensorSpecSchema = z.object({
  name: z.string().min(1).max(256),
  type: tensorTypeSchema,
  shape: z.array(z.union([z.number().int().min(-1), z.string().min(1).max(64)])).max(8),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

export const modelSignatureSchema = z.object({
  inputs: z.array(tensorSpecSchema).min(1),
  outputs: z.array(tensorSpecSchema).min(1),
});
export type ModelSignature = z.infer<typeof modelSignatureSchema>;
