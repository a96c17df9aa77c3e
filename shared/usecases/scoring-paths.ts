/**
 * Output paths of a scoring run (ARCHITECTURE.md "Stores and names"). Chunk numbers are padded
 * to five digits so parts list in order.
 */
const pad = (n: number) => String(n).padStart(5, '0');

export const predictionsRunPrefix = (model: string, version: number, runId: string) =>
  `predictions/${model}/v${version}/${runId}/`;

export const predictionsPartPath = (model: string, version: number, runId: string, chunk: number) =>
  `${predictionsRunPrefix(model, version, runId)}part-${pad(chunk)}.parquet`;

export const quarantineChunkPath = (model: string, runId: string, chunk: number) =>
  `quarantine/${model}/${runId}/chunk-${pad(chunk)}.jsonl`;
