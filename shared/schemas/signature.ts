import { z } from 'zod';

/** Tensor element types the scoring pipeline understands (onnxruntime's names). */
export const tensorElementTypeSchema = z.enum(['float32', 'float64', 'int64', 'int32', 'string', 'bool']);
export type TensorElementType = z.infer<typeof tensorElementTypeSchema>;

/**
 * One model input or output: its name in the ONNX graph, element type and shape. A `null`
 * dimension is symbolic (the batch dimension, usually the first).
 */
export const tensorSpecSchema = z.object({
  name: z.string().min(1).max(256),
  elementType: tensorElementTypeSchema,
  shape: z.array(z.number().int().positive().nullable()).min(1).max(4),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

/**
 * What a model version promises about its ONNX graph: one float32 `[batch, width]` input fed by
 * the fitted transforms, and either one regression output or a label and a probabilities
 * output (`[batch, classes]`, in the order of the model's `classLabels`). Checked against the
 * graph when the artifact is loaded; every output must be a tensor (no ZipMap).
 */
export const modelSignatureSchema = z
  .object({
    input: tensorSpecSchema,
    outputs: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('regression'), prediction: tensorSpecSchema }),
      z.object({
        kind: z.literal('classification'),
        label: tensorSpecSchema,
        probabilities: tensorSpecSchema,
      }),
    ]),
  })
  .superRefine((s, ctx) => {
    if (s.input.elementType !== 'float32' || s.input.shape.length !== 2 || s.input.shape[1] === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['input'],
        message: 'the model input must be float32 with shape [batch, width] and a fixed width',
      });
    }
    if (s.outputs.kind === 'classification') {
      const p = s.outputs.probabilities;
      if (p.elementType !== 'float32' || p.shape.length !== 2) {
        ctx.addIssue({
          code: 'custom',
          path: ['outputs', 'probabilities'],
          message: 'class probabilities must be float32 with shape [batch, classes]',
        });
      }
    }
  });
export type ModelSignature = z.infer<typeof modelSignatureSchema>;
