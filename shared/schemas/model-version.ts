import { z } from 'zod';

import { lakePathProblem } from '../domain/lake-paths';
import { isoDateTimeSchema, modelNameSchema, sha256Schema, versionNumberSchema } from './common';
import { lifecycleStateSchema, transitionEventSchema } from './lifecycle';

/** A path inside the data container (validated by the lake path rules). */
export const lakePathSchema = z
  .string()
  .superRefine((path, ctx) => {
    const problem = lakePathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

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

export const artifactRefSchema = z.object({
  path: lakePathSchema,
  sha256: sha256Schema,
  /** Bytes, recorded at registration. */
  size: z.number().int().nonnegative().optional(),
  /** sha256 of the graph as exported, when registration rewrote it (ZipMap removed); `sha256` is the stored graph's. */
  sourceSha256: sha256Schema.optional(),
});

/** A data set the version was trained or evaluated on. */
export const datasetReferenceSchema = z.strictObject({
  role: z.enum(['training', 'validation', 'test', 'reference']),
  /** A lake path or an external URI (Azure ML data asset, Delta table, ...). */
  uri: z.string().min(1).max(2048),
  sha256: sha256Schema.optional(),
  rows: z.number().int().nonnegative().optional(),
});

export const lineageSourceSchema = z.enum(['manual', 'builtin', 'azureml', 'databricks', 'webhook']);

export const lineageSchema = z.strictObject({
  parentVersion: versionNumberSchema.optional(),
  /** The trainer's run id (Azure ML job, Databricks run, built-in trainer run). */
  trainingRun: z.string().min(1).max(512).optional(),
  source: lineageSourceSchema,
});

/** Where the model was trained: runtime and exact package versions, and the ONNX opset. */
export const environmentSchema = z.strictObject({
  runtime: z.string().min(1).max(128),
  packages: z.array(z.strictObject({ name: z.string().min(1).max(214), version: z.string().min(1).max(64) })).default([]),
  onnxOpset: z.number().int().min(1).max(100),
});

/** What a registrant hands over for a new version; the registry assigns the number. */
export const modelVersionInputSchema = z.object({
  artifact: artifactRefSchema,
  /** Hash of the fitted transform spec the model was trained with (transforms must match it); none when the graph takes raw columns. */
  transformSpecHash: sha256Schema.optional(),
  signature: modelSignatureSchema,
  trainingMetrics: z.record(z.string().min(1).max(64), z.number()).default({}),
  datasets: z.array(datasetReferenceSchema).default([]),
  lineage: lineageSchema,
  environment: environmentSchema.optional(),
  /** Optional golden records: inputs and expected outputs the scoring path must reproduce. */
  goldenRecordsPath: lakePathSchema.optional(),
  description: z.string().max(2000).default(''),
  /**
   * Idempotency key (the registrant's `Idempotency-Key`, or derived from the artifact and manifest
   * hashes): registering again with the same key returns the version registered first.
   */
  registrationKey: z.string().min(1).max(256).optional(),
  /** sha256 of the registration manifest as received. */
  manifestSha256: sha256Schema.optional(),
});
export type ModelVersionInput = z.input<typeof modelVersionInputSchema>;

/**
 * Reconciliation started the version's lifecycle again (its instance ended or is gone while the
 * version was `registered` or `pending_approval`, or `approved` under a policy that promotes on
 * approval): when, in which state, and what it found.
 */
export const lifecycleRestartSchema = z.object({
  at: isoDateTimeSchema,
  state: lifecycleStateSchema,
  /** What reconciliation found of the instance (its status, or that it is gone). */
  cause: z.string().min(1).max(2000),
});
export type LifecycleRestart = z.infer<typeof lifecycleRestartSchema>;

/** A stored model version: the input plus the registry's bookkeeping and lifecycle. */
export const modelVersionSchema = modelVersionInputSchema.extend({
  modelName: modelNameSchema,
  version: versionNumberSchema,
  /** Id of the actor who registered it; never allowed to approve or reject it. */
  registrant: z.string().min(1).max(256),
  state: lifecycleStateSchema,
  /** Hash of the validation evidence currently on the version; approvals must quote it. */
  evidenceHash: sha256Schema.optional(),
  /** Number of transitions so far: makes audit event ids deterministic. */
  revision: z.number().int().nonnegative(),
  createdAt: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
  /** The version's transitions, oldest first (also appended to the audit ledger). */
  history: z.array(transitionEventSchema).default([]),
  /** Restarts of its lifecycle by reconciliation, oldest first; none before the first. Not transitions: `revision` and `updatedAt` stay. */
  lifecycleRestarts: z.array(lifecycleRestartSchema).optional(),
});
export type ModelVersion = z.infer<typeof modelVersionSchema>;
