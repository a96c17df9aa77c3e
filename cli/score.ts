/**
 * `mlops score <version-manifest.json> <input.csv|parquet> <output.parquet>`: the batch scoring
 * pipeline on local files, so a data scientist can check a version before registering it.
 */
import fs from 'node:fs';
import path from 'node:path';

import { FileLake } from '../shared/adapters/local/file-lake';
import { OnnxModelRuntime } from '../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../shared/adapters/tabular/lake-tabular-files';
import { isDomainError } from '../shared/domain/errors';
import { checkVersion } from '../shared/usecases/check-version';
import { type ChunkTargets, defaultChunkTargets, planChunks } from '../shared/usecases/plan-chunks';
import { scoreChunk } from '../shared/usecases/score-chunk';
import { scoreInParts } from './score-parts';
import { lakePath, readManifest, versionPackage } from './version-package';

const USAGE = 'usage: mlops score <version-manifest.json> <input.csv|input.csv.gz|input.parquet> <output.parquet>';

/**
 * Scores `input` chunk by chunk (the product's bounded chunks unless `chunkTargets` says
 * otherwise) into one Parquet file and one quarantine file; see scoreInParts.
 */
export async function scoreFiles(
  manifestFile: string,
  input: string,
  output: string,
  log: (line: string) => void,
  chunkTargets: ChunkTargets = defaultChunkTargets,
): Promise<number> {
  const pkg = versionPackage(manifestFile, readManifest(manifestFile));
  const runtime = new OnnxModelRuntime();
  try {
    // What registration checks (the ZipMap rewrite, the inputs, parity) gives the version to score.
    const { definition, scoring: version } = await checkVersion({ runtime }, pkg, {
      report: (check, message) => {
        if (check === 'parity') log(`parity: ${message}`);
      },
    });
    const lake = new FileLake(path.parse(path.resolve(input)).root);
    const files = new LakeTabularFiles(lake);
    const source = lakePath(input);
    const plan = await planChunks({ files }, definition, source, chunkTargets);
    const quarantine = `${output}.rejected.jsonl`;
    fs.rmSync(quarantine, { force: true });
    if (plan.chunks.length === 0) {
      log(`${input}: no data rows; nothing written`);
      return 0;
    }
    const total = await scoreInParts(plan.chunks, output, quarantine, (chunk, partFile, quarantineFile) =>
      scoreChunk({ lake, files }, version, { source, runId: 'local', chunk, output: { partPath: lakePath(partFile), quarantinePath: lakePath(quarantineFile) } }),
    );
    log(`read ${total.rowsRead} rows: ${total.rowsScored} scored -> ${output}`);
    if (total.rowsRejected > 0) {
      log(`${total.rowsRejected} rejected -> ${quarantine}`);
      for (const [code, n] of Object.entries(total.rejectionReasons)) log(`  ${code}: ${n}`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

export const scoreCommand = {
  summary: 'score a local CSV or Parquet file with a version manifest (ONNX + fitted transforms)',
  async run(args: string[]): Promise<number> {
    if (args.length !== 3 || args.some((a) => a.startsWith('-'))) {
      console.error(USAGE);
      return 2;
    }
    const [manifest, input, output] = args as [string, string, string];
    try {
      return await scoreFiles(manifest, input, output, (line) => console.log(line));
    } catch (e) {
      console.error(isDomainError(e) ? `${e.code}: ${e.message}` : (e as Error).message);
      return 1;
    }
  },
};
