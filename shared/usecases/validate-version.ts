import { canonicalHash } from '../domain/canonical-json';
import { type DomainError, errors, isDomainError } from '../domain/errors';
import { lakePaths } from '../domain/lake-paths';
import { compareWithChampion, computeMetricsByKeys, type MetricsData, type MetricsOptions } from '../domain/metrics';
import { subsetClassification, subsetRegression } from '../domain/metrics/segments';
import { DEFAULT_SEGMENT_MAX_VALUES, OTHER_SEGMENT_VALUE, segmentValueCounts } from '../domain/segment-cap';
import { makeSplits, type Split } from '../domain/splits';
import type { DataLake } from '../ports/data-lake';
import type { ModelRegistry } from '../ports/model-registry';
import type { ModelRuntime } from '../ports/model-runtime';
import type { TabularFiles } from '../ports/tabular-files';
import type { EvidenceCheck, SplitEvidence, ValidationEvidence, ValidationOutcome } from '../schemas/evidence';
import type { SegmentedMetricReport } from '../schemas/metrics';
import type { ModelDefinition } from '../schemas/model';
import type { ModelVersion } from '../schemas/model-version';
import type { ReferenceProfile } from '../schemas/monitoring';
import type { ValidationGates } from '../schemas/policies';
import { checkParity } from './check-parity';
import { MODEL_OUTPUT_REJECTION } from './finite-predictions';
import { type LoadedVersion, loadScoringVersion } from './load-version';
import { planChunks } from './plan-chunks';
import type { SegmentedProfile } from './profiling';
import { CHAMPION_OUTPUT, CHAMPION_TRANSFORM, type ScoredValidationData, scoreValidationData, tooManyValidationRows } from './validation-data';

export interface ValidateVersionDeps {
  registry: ModelRegistry;
  lake: DataLake;
  files: TabularFiles;
  runtime: ModelRuntime;
  /** Rows a validation dataset may hold (VALIDATION_MAX_ROWS); unbounded when absent. */
  maxRows?: number;
  /** Values a segment key may have (SEGMENT_MAX_VALUES); DEFAULT_SEGMENT_MAX_VALUES when absent. */
  segmentMaxValues?: number;
}

/** The code of the failed `dataset` check of a segment key with more values than the cap. */
export const TOO_MANY_SEGMENT_VALUES = 'too_many_segment_values';

export interface ValidateVersionInput {
  model: string;
  version: number;
  /** The lifecycle's clock: part of the evidence, so a retried validation writes the same bundle. */
  validatedAt: string;
  /** A revalidation's data (a lake path) instead of the version's `validation` dataset. */
  dataset?: string | undefined;
}

/** Failures that are facts about the version or its data (evidence), not outages (retried). */
const EVIDENCE_CODES = new Set([
  'NOT_FOUND',
  'VALIDATION_ERROR',
  'ARTIFACT_INTEGRITY',
  'ARTIFACT_MISSING',
  'UNSUPPORTED_MODEL',
  'SIGNATURE_MISMATCH',
  'PARITY_MISMATCH',
  'INVALID_INPUT_FILE',
  'INSUFFICIENT_DATA',
]);

const isEvidence = (e: unknown): e is DomainError => isDomainError(e) && EVIDENCE_CODES.has(e.code);

function failed(check: EvidenceCheck['check'], error: DomainError, gating = true): EvidenceCheck {
  return { check, passed: false, gating, code: error.code, message: error.message };
}

/** Overall and per-segment metrics, segments named `key=value` for each of the model's segment keys. */
function segmentedReport(
  definition: ModelDefinition,
  data: MetricsData,
  columns: ScoredValidationData['columns'],
  options: MetricsOptions,
): SegmentedMetricReport {
  return computeMetricsByKeys(definition.task, data, definition.segmentKeys, columns, options);
}

const subset = (data: MetricsData, rows: Int32Array): MetricsData =>
  'probabilities' in data ? subsetClassification(data, rows) : subsetRegression(data, rows);

const subsetColumns = (columns: ScoredValidationData['columns'], rows: Int32Array) =>
  Object.fromEntries(Object.entries(columns).map(([k, values]) => [k, Array.from(rows, (r) => values[r] ?? null)]));

/** Each configured split strategy: metrics of both versions on every test partition, and the gates. */
function evaluateSplits(
  definition: ModelDefinition,
  gates: ValidationGates,
  scored: ScoredValidationData,
  checks: EvidenceCheck[],
  maxSegmentValues: number,
): SplitEvidence[] {
  const options: MetricsOptions = { bootstrap: { resamples: gates.bootstrapResamples }, maxSegmentValues };
  const rowCount = scored.timestamps.length;
  const out: SplitEvidence[] = [];
  for (const strategy of gates.splits) {
    let splits: Split[];
    try {
      splits = makeSplits(strategy, {
        rowCount,
        timestamps: scored.timestamps,
        ...('probabilities' in scored.challenger ? { classes: scored.challenger.actual } : {}),
        column: (name) => scored.columns[name],
      });
    } catch (error) {
      if (!isDomainError(error)) throw error;
      checks.push({ check: 'dataset', passed: false, gating: true, code: error.code, message: `split ${strategy.kind}: ${error.message}` });
      continue;
    }
    for (const split of splits) {
      const columns = subsetColumns(scored.columns, split.test);
      const challenger = segmentedReport(definition, subset(scored.challenger, split.test), columns, options);
      const champion = scored.champion ? segmentedReport(definition, subset(scored.champion, split.test), columns, options) : null;
      out.push({
        strategy,
        name: split.name,
        rows: split.test.length,
        challenger,
        champion,
        comparison: compareWithChampion(challenger, champion, gates),
      });
    }
  }
  return out;
}

/**
 * Validates a version: its artifact loads and matches its signature and transforms, its golden
 * records reproduce, and on the model's validation dataset it meets the validation gates under
 * every configured split strategy, overall and per segment, against the champion scored on
 * exactly the same rows. Writes the evidence bundle (named by its own sha256) and returns the
 * decision. What is wrong with the version or its data is evidence (decision `fail`); outages
 * are thrown so the caller retries.
 */
export async function validateVersion(deps: ValidateVersionDeps, input: ValidateVersionInput): Promise<ValidationOutcome> {
  const record = await deps.registry.getModel(input.model);
  if (!record) throw errors.modelNotFound(input.model);
  const found = await deps.registry.getVersion(input.model, input.version);
  if (!found) throw errors.versionNotFound(input.model, input.version);
  const version = found.value;
  const definition = record.definition;
  const gates = definition.policies.validation;
  const segmentMaxValues = deps.segmentMaxValues ?? DEFAULT_SEGMENT_MAX_VALUES;
  const checks: EvidenceCheck[] = [];
  let splits: SplitEvidence[] = [];
  let dataset: ValidationEvidence['dataset'] = null;

  const candidate = await loadChecked(deps, definition, version, checks);
  const pointer = await deps.registry.getChampion(input.model);
  const championVersion = pointer?.value.version ?? null;
  const champion = candidate && championVersion !== null && championVersion !== version.version
    ? await loadChampion(deps, definition, championVersion, checks)
    : null;

  const source = input.dataset ?? version.datasets.find((d) => d.role === 'validation')?.uri;
  if (candidate && source === undefined) {
    checks.push({ check: 'dataset', passed: false, gating: true, message: 'the version names no validation dataset (datasets[].role = "validation")' });
  } else if (candidate && source !== undefined) {
    try {
      const plan = await planChunks({ files: deps.files }, definition, source);
      // A footer or a planned CSV says the size up front; a gzip CSV is stopped while it is read.
      if (deps.maxRows !== undefined && plan.rows !== undefined && plan.rows > deps.maxRows) throw tooManyValidationRows(source, deps.maxRows, plan.rows);
      const groupColumns = gates.splits.flatMap((s) => (s.kind === 'group' ? [s.column] : []));
      const scored = await scoreValidationData({ files: deps.files, maxRows: deps.maxRows, segmentMaxValues }, plan, candidate, champion?.loaded ?? null, groupColumns);
      dataset = {
        path: source,
        ...(plan.etag ? { etag: plan.etag } : {}),
        rowsRead: scored.rowsRead,
        rowsEvaluated: scored.timestamps.length,
        rowsRejected: scored.rowsRejected,
        rowsWithoutActual: scored.rowsWithoutActual,
        rejectionReasons: scored.rejectionReasons,
      };
      await writeReferenceProfile(deps.lake, version, source, scored.reference);
      checks.push(...outputChecks(scored, source));
      const unusable = scored.unusableActuals;
      const unusableText = `${unusable.rows} whose ${definition.targetColumn} cell is not usable (${unusable.example})`;
      if (scored.timestamps.length === 0) {
        const why = `${scored.rowsRejected} rejected, ${scored.rowsWithoutActual} without an actual${unusable.rows > 0 ? `, of which ${unusableText}` : ''}`;
        checks.push({ check: 'dataset', passed: false, gating: true, message: `no row of ${source} could be evaluated (every row was rejected or had no actual: ${why})` });
      } else {
        if (unusable.rows > 0)
          checks.push({ check: 'dataset', passed: false, gating: false, message: `${scored.rowsRead} rows of ${source} read, ${unusableText}: they are left out of the metrics` });
        checks.push({ check: 'dataset', passed: true, gating: true, message: `${scored.timestamps.length} of ${scored.rowsRead} rows of ${source} evaluated` });
        checks.push(...segmentCardinalityChecks(definition, scored, source, segmentMaxValues));
        splits = evaluateSplits(definition, gates, scored, checks, segmentMaxValues);
      }
    } catch (error) {
      if (!isEvidence(error)) throw error;
      checks.push(failed('dataset', error));
    }
  }

  const reasons = [
    ...checks.filter((c) => c.gating && !c.passed).map((c) => c.message),
    ...splits.flatMap((s) => s.comparison.reasons.map((r) => `${s.name}: ${r}`)),
  ];
  const evidence: ValidationEvidence = {
    schemaVersion: 1,
    model: input.model,
    version: version.version,
    validatedAt: input.validatedAt,
    artifactSha256: version.artifact.sha256,
    transformSpecHash: version.transformSpecHash,
    champion: champion ? { version: champion.version.version, artifactSha256: champion.version.artifact.sha256 } : null,
    dataset,
    checks,
    splits,
    decision: reasons.length === 0 && splits.length > 0 ? 'pass' : 'fail',
    reasons,
  };
  const evidenceHash = canonicalHash(evidence);
  const evidencePath = lakePaths.evidence(input.model, version.version, evidenceHash);
  await writeOnce(deps.lake, evidencePath, Buffer.from(`${JSON.stringify(evidence, null, 2)}\n`));
  return { decision: evidence.decision, reasons, evidenceHash, evidencePath };
}

/**
 * A segment key whose validation data has more values than the cap fails the dataset check: its
 * segments past the cap would be judged (and monitored) only as one `key=__other__`, so the gates
 * per segment would not mean what the definition asks. Likely an id or free text declared as a
 * segment key; the evidence still holds the metrics, with the values past the cap folded.
 */
function segmentCardinalityChecks(definition: ModelDefinition, scored: ScoredValidationData, source: string, limit: number): EvidenceCheck[] {
  const checks: EvidenceCheck[] = [];
  for (const key of definition.segmentKeys) {
    // Rows without an actual are profiled (the reference) but not evaluated: the larger count is the data's.
    const evaluated = segmentValueCounts(scored.columns[key] ?? []).size;
    const distinct = Math.max(evaluated, scored.reference.cappedSegments?.[key]?.distinctValuesAtLeast ?? 0);
    if (distinct <= limit) continue;
    checks.push({
      check: 'dataset',
      passed: false,
      gating: true,
      code: TOO_MANY_SEGMENT_VALUES,
      message:
        `the segment key '${key}' has ${distinct} distinct values in ${source}, more than the ${limit} a segment key may have (SEGMENT_MAX_VALUES): ` +
        `all but the ${limit} most frequent would be measured and monitored as one segment '${key}=${OTHER_SEGMENT_VALUE}'; ` +
        `segment by a column with fewer values (an id or free text is no segment), or raise SEGMENT_MAX_VALUES`,
    });
  }
  return checks;
}

/**
 * Rows a version answered with NaN or an infinity are left out of both versions' metrics, as
 * scoring quarantines them. The candidate's fail it (measured without them it would look better than
 * it is); the champion's are reported only, since they are no fact about the candidate, and so are
 * rows the champion's transforms reject.
 */
function outputChecks(scored: ScoredValidationData, source: string): EvidenceCheck[] {
  const checks: EvidenceCheck[] = [];
  const { modelOutput, championOutput, championTransform } = scored;
  if (modelOutput.rows > 0)
    checks.push({
      check: 'dataset',
      passed: false,
      gating: true,
      code: MODEL_OUTPUT_REJECTION,
      message: `the version answers ${modelOutput.rows} of ${scored.rowsRead} rows of ${source} with no number (${modelOutput.example}); they are left out of the metrics`,
    });
  if (championOutput.rows > 0)
    checks.push({
      check: 'champion',
      passed: false,
      gating: false,
      code: CHAMPION_OUTPUT,
      message: `the champion answers ${championOutput.rows} of ${scored.rowsRead} rows of ${source} with no number (${championOutput.example}); they are left out of both versions' metrics`,
    });
  // Rows of a flavour the champion's transforms never accepted (a new region): the candidate is not measured on them either.
  if (championTransform.rows > 0)
    checks.push({
      check: 'champion',
      passed: false,
      gating: false,
      code: CHAMPION_TRANSFORM,
      message: `the champion's transforms reject ${championTransform.rows} of ${scored.rowsRead} rows of ${source} that the version scores (${championTransform.example}); they are left out of both versions' metrics, so the version is not measured on them`,
    });
  return checks;
}

/** The candidate loaded and its golden records checked; undefined (with the failed check) when it cannot be. */
async function loadChecked(
  deps: ValidateVersionDeps,
  definition: ModelDefinition,
  version: ModelVersion,
  checks: EvidenceCheck[],
): Promise<LoadedVersion | undefined> {
  let loaded: LoadedVersion;
  try {
    loaded = await loadScoringVersion(deps, definition, version);
  } catch (error) {
    if (!isEvidence(error)) throw error;
    checks.push(failed('artifact', error));
    return undefined;
  }
  checks.push({ check: 'artifact', passed: true, gating: true, message: loaded.fitted ? `the artifact loads and its inputs are fed by the transforms (${loaded.fitted.output.length} features) and raw columns` : 'the artifact loads and its inputs are fed by raw columns' });
  if (!loaded.goldenRecords) {
    checks.push({ check: 'parity', passed: true, gating: false, message: 'the version has no golden records to check' });
    return loaded;
  }
  try {
    await checkParity(loaded, loaded.goldenRecords, loaded.fitted);
    checks.push({ check: 'parity', passed: true, gating: true, message: `${loaded.goldenRecords.length} golden records reproduce` });
    return loaded;
  } catch (error) {
    if (!isEvidence(error)) throw error;
    checks.push(failed('parity', error));
    return undefined;
  }
}

/** The champion to compare with; a champion that cannot be loaded is reported, not held against the challenger. */
async function loadChampion(
  deps: ValidateVersionDeps,
  definition: ModelDefinition,
  number: number,
  checks: EvidenceCheck[],
): Promise<{ version: ModelVersion; loaded: LoadedVersion } | null> {
  const found = await deps.registry.getVersion(definition.name, number);
  if (!found) {
    checks.push({ check: 'champion', passed: false, gating: false, message: `the champion v${number} is not in the registry; no comparison` });
    return null;
  }
  try {
    return { version: found.value, loaded: await loadScoringVersion(deps, definition, found.value) };
  } catch (error) {
    if (!isEvidence(error)) throw error;
    checks.push(failed('champion', error, false));
    return null;
  }
}

async function writeOnce(lake: DataLake, path: string, body: Buffer): Promise<void> {
  try {
    await lake.write(path, body, { contentType: 'application/json', ifNotExists: true });
  } catch (error) {
    // Named by its hash: an existing bundle is this one, written by an earlier attempt.
    if (!(isDomainError(error) && error.code === 'ARTIFACT_ALREADY_EXISTS')) throw error;
  }
}

/** The version's reference for monitoring: its validation data as it scored it (rewritten by a revalidation). */
async function writeReferenceProfile(lake: DataLake, version: ModelVersion, source: string, profile: SegmentedProfile): Promise<void> {
  const reference: ReferenceProfile = { schemaVersion: 1, model: version.modelName, version: version.version, source, ...profile };
  await lake.write(lakePaths.referenceProfile(version.modelName, version.version), Buffer.from(JSON.stringify(reference)), {
    contentType: 'application/json',
  });
}
