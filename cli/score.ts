/**
 * `mlops score <version-manifest.json> <input.csv|parquet> <output.parquet>`: the batch scoring
 * pipeline on local files, so a data scientist can check a version before registering it.
 */
import fs from 'node:fs';
import path from 'node:path';

import { FileLake } from '../shared/adapters/local/file-lake';
import { OnnxModelRuntime } from '../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../shared/adapters/tabular/lake-tabular-files';
import type { CsvLimits } from '../shared/domain/csv-limits';
import { errors, isDomainError } from '../shared/domain/errors';
import { checkVersion } from '../shared/usecases/check-version';
import { type ChunkTargets, defaultChunkTargets, planChunks } from '../shared/usecases/plan-chunks';
import { emptyPredictionsPart, scoreChunk } from '../shared/usecases/score-chunk';
import { plainArgs, repeatedOption } from './command';
import { CSV_LIMIT_OPTIONS, CSV_LIMITS_USAGE, csvLimitValue, withCsvOptionHint } from './csv-options';
import { refuseFolderOutputs, refuseNonParquetNames, refuseOverwritingInputs, writeFilesInPlace } from './output-files';
import { scoreInParts } from './score-parts';
import { artifactFileOf, localFile, readManifest, versionPackage } from './version-package';

const USAGE = `usage: mlops score <version-manifest.json> <input.csv|input.csv.gz|input.parquet> <output.parquet> [options]

Scores the file with the production pipeline (the package checked as registration would, rows
validated, transforms, the ONNX model) into one Parquet file; rejected rows go to
<output.parquet>.rejected.jsonl with the reason.

options (a CSV record past a bound is rejected with the reason, and reading goes on):
${CSV_LIMITS_USAGE}
  -h, --help             this text

Exit codes: 0 scored, 1 failed, 2 usage.`;

/** What a run that writes nothing leaves behind, in words. */
export function untouchedOutputs(output: string, quarantine = `${output}.rejected.jsonl`): string {
  const existing = [output, quarantine].filter((f) => fs.existsSync(f));
  return existing.length === 0 ? 'nothing was written' : `nothing was written: ${existing.join(' and ')} left as ${existing.length === 1 ? 'it was' : 'they were'}`;
}

/**
 * Scores `input` chunk by chunk (the product's bounded chunks unless `chunkTargets` says
 * otherwise) into one Parquet file and one quarantine file; see scoreInParts. The output and
 * its quarantine are replaced together when the run completes, also when the input has no data
 * rows (then an output of no rows and no quarantine); a run that fails leaves both as they were.
 */
export async function scoreFiles(
  manifestFile: string,
  input: string,
  output: string,
  log: (line: string) => void,
  options: { chunkTargets?: ChunkTargets; csvLimits?: Partial<CsvLimits> } = {},
): Promise<number> {
  const chunkTargets = options.chunkTargets ?? defaultChunkTargets;
  const manifest = readManifest(manifestFile);
  // Said with the user's spelling of the paths, before the model is loaded and the file scored.
  if (!fs.existsSync(input)) throw errors.notFound(`no such input file: ${input}`);
  if (fs.statSync(input).isDirectory()) throw errors.validation(`the input ${input} is a folder: give a .csv, .csv.gz or .parquet file`);
  const quarantine = `${output}.rejected.jsonl`;
  refuseFolderOutputs([output, quarantine]);
  refuseOverwritingInputs([output, quarantine], { 'input file': input, manifest: manifestFile, 'model artifact': artifactFileOf(manifestFile, manifest) }, 'scoring');
  refuseNonParquetNames([output]);
  const pkg = versionPackage(manifestFile, manifest);
  const runtime = new OnnxModelRuntime();
  try {
    // What registration checks (the ZipMap rewrite, the inputs, parity) gives the version to score.
    const { definition, scoring: version } = await checkVersion({ runtime }, pkg, {
      report: (check, message) => {
        if (check === 'parity') log(`parity: ${message}`);
      },
    });
    const { lake: inputLake, path: source } = localFile(input);
    const files = new LakeTabularFiles(inputLake, options.csvLimits ? { csvLimits: options.csvLimits } : {});
    const plan = await planChunks({ files }, definition, source, chunkTargets);
    if (plan.chunks.length === 0) {
      // Written as for rows, with none: `mlops score in.csv out.parquet && use out.parquet` must
      // not go on with an earlier run's output. No row is rejected, so an earlier quarantine goes.
      writeFilesInPlace([
        { file: quarantine, data: null },
        { file: output, data: emptyPredictionsPart(definition, files.parquetSink()) },
      ]);
      log(`read 0 rows (${input} has no data rows): 0 scored -> ${output}`);
      return 0;
    }
    const total = await scoreInParts(plan.chunks, output, quarantine, (chunk, partFile, quarantineFile) =>
      // Parts (scoreInParts puts both in one folder) are written through a lake on that folder: the
      // output's own path then needs no lake path rules.
      scoreChunk({ lake: new FileLake(path.dirname(partFile)), files }, version, {
        source,
        runId: 'local',
        chunk,
        output: { partPath: path.basename(partFile), quarantinePath: path.basename(quarantineFile) },
      }),
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

/** The command line: three paths and the CSV bounds; a message when it is wrong. */
export function parseScoreArgs(args: readonly string[]): { paths: [string, string, string]; csvLimits: Partial<CsvLimits> } | string {
  const { options, paths: afterDashes } = plainArgs(args);
  const paths: string[] = [];
  const csvLimits: Partial<CsvLimits> = {};
  const seen = new Set<string>();
  for (let i = 0; i < options.length; i += 1) {
    const a = options[i]!;
    const bound = CSV_LIMIT_OPTIONS[a];
    if (bound) {
      const repeated = repeatedOption(seen, a);
      if (repeated !== undefined) return repeated;
      const value = csvLimitValue(a, options[++i] ?? '');
      if (typeof value === 'string') return value;
      csvLimits[bound] = value;
    } else if (a.startsWith('-')) return `unknown option ${a}`;
    else paths.push(a);
  }
  paths.push(...afterDashes);
  if (paths.length !== 3) return 'three paths are needed: <version-manifest.json> <input> <output.parquet>';
  return { paths: paths as [string, string, string], csvLimits };
}

export const scoreCommand = {
  summary: 'score a local CSV or Parquet file with a version manifest (ONNX + fitted transforms)',
  async run(args: string[]): Promise<number> {
    if (plainArgs(args).help) {
      console.log(USAGE);
      return 0;
    }
    const parsed = parseScoreArgs(args);
    if (typeof parsed === 'string') {
      console.error(`${parsed}\n\n${USAGE}`);
      return 2;
    }
    const [manifest, input, output] = parsed.paths;
    try {
      return await scoreFiles(manifest, input, output, (line) => console.log(line), { csvLimits: parsed.csvLimits });
    } catch (e) {
      console.error(isDomainError(e) ? withCsvOptionHint(`${e.code}: ${e.message}`) : (e as Error).message);
      console.error(untouchedOutputs(output));
      return 1;
    }
  },
};
