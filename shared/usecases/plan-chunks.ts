import { layoutColumns } from '../domain/row-validation';
import type { TabularFiles } from '../ports/tabular-files';
import type { ModelDefinition } from '../schemas/model';
import type { ChunkPlan } from '../schemas/scoring';

export interface ChunkTargets {
  /** CSV: bytes per range (ranges end at the next record end). */
  targetChunkBytes: number;
  /** Parquet: rows per chunk, in whole row groups. */
  targetChunkRows: number;
  /**
   * CSV: make the number of ranges a multiple of this (the workers scoring chunks in parallel)
   * with even sizes, so no worker idles while another scores the last chunk.
   */
  chunkCountMultiple?: number;
}

/**
 * About 200k rows of a 20-column CSV, 250k of Parquet: small enough to balance across workers;
 * CSV chunk counts even, for two activity workers per host.
 */
export const defaultChunkTargets: ChunkTargets = { targetChunkBytes: 32 * 1024 * 1024, targetChunkRows: 250_000, chunkCountMultiple: 2 };

/**
 * Plans the fan-out for one data drop and checks its columns against the model first, so a file
 * that lacks required columns (or is empty, or not CSV/Parquet) fails once with
 * INVALID_INPUT_FILE instead of once per chunk.
 */
export async function planChunks(
  deps: { files: TabularFiles },
  definition: ModelDefinition,
  source: string,
  targets: ChunkTargets = defaultChunkTargets,
): Promise<ChunkPlan> {
  const plan = await deps.files.plan(source, targets);
  layoutColumns(definition, plan.columns);
  return plan;
}
