import { createHash } from 'node:crypto';

import { DomainError, errors, isDomainError, parseOrThrow } from '../domain/errors';
import { type InputFeed, modelInputsBuilder, planModelInputs, trialInputs } from '../domain/model-inputs';
import type { GoldenRecord } from '../domain/parity';
import { checkClassIds, checkSignature, signatureRoles } from '../domain/signature-roles';
import { assertInputsMatchFeatures, assertTransformsApply } from '../domain/transforms';
import type { DataLake } from '../ports/data-lake';
import type { GraphClassLabels, LoadedModel, ModelRuntime, PreparedArtifact } from '../ports/model-runtime';
import type { TabularFiles } from '../ports/tabular-files';
import { type ModelDefinition, modelDraftSchema, modelInputSchema } from '../schemas/model';
import type { ChunkSummary } from '../schemas/scoring';
import type { ModelSignature } from '../schemas/signature';
import type { FittedTransforms } from '../schemas/transforms';
import { checkParity, type ParitySummary } from './check-parity';
import { checkOutputColumns } from './column-clashes';
import { planChunks } from './plan-chunks';
import { scoreChunk, type ScoringVersion, valuesPerRow } from './score-chunk';

/** A model version as a registrant hands it over: everything registration checks. */
export interface VersionPackage {
  /**
   * The model definition (unparsed: it is checked here). A classifier may leave `classLabels`
   * out when its graph names them (ZipMap or classifier node).
   */
  model: unknown;
  version: number;
  /** The ONNX bytes as exported. */
  artifact: Buffer;
  /** The sha256 the registrant gives for `artifact`; checked when given. */
  artifactSha256?: string;
  /** The sha256 the registrant gives for the graph after registration's rewrites; checked when given. */
  rewrittenSha256?: string;
  /** The signature of the graph as stored (after the rewrites). */
  signature: ModelSignature;
  /** The fitted transforms; absent when the graph takes raw columns only. */
  transforms?: FittedTransforms;
  goldenRecords?: readonly GoldenRecord[];
}

export interface CheckVersionDeps {
  runtime: ModelRuntime;
  /** Needed to score a sample. */
  files?: TabularFiles;
  lake?: DataLake;
}

/** The checks, in the order they run. */
export type VersionCheck = 'artifact' | 'signature' | 'transforms' | 'parity' | 'sample';

export interface CheckVersionOptions {
  /**
   * A data file in the lake to score (its first chunk) once everything else passed, and where the
   * outputs go; `name`, how messages call it (a local file as the user spelled it), else `source`.
   */
  sample?: { source: string; name?: string; partPath: string; quarantinePath: string };
  /** Called after each check that passed, with a one-line account of it. */
  report?: (check: VersionCheck, message: string) => void;
}

/** A version that passed every check: what to store, and a ScoringVersion ready to score. */
export interface CheckedVersion {
  /** The definition, with class labels taken from the graph when the package left them out. */
  definition: ModelDefinition;
  artifact: {
    /** The bytes to store: the upload, or its rewrite (ZipMap removed). */
    bytes: Buffer;
    /** sha256 of `bytes`: the artifact hash the version records and the runtime checks. */
    sha256: string;
    /** sha256 of the upload as exported (equal to `sha256` when nothing was rewritten). */
    sourceSha256: string;
    /** One sentence per rewrite; empty when the upload is stored as it is. */
    rewrites: string[];
  };
  signature: ModelSignature;
  transforms?: FittedTransforms;
  /** How each graph input is fed (the transforms' matrix or a raw column). */
  feeds: InputFeed[];
  scoring: ScoringVersion;
  parity?: ParitySummary;
  sample?: ChunkSummary;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Runs one check; a DomainError it throws says which check failed in `details.check`. */
async function step<T>(check: VersionCheck, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!isDomainError(e)) throw e;
    throw new DomainError(e.code, e.message, { ...e.details, check });
  }
}

/**
 * Everything registration checks, in order, stopping at the first failure (a DomainError with
 * `details.check` naming the check):
 *
 * 1. artifact: the declared sha256 matches; exporter habits are rewritten (a classifier's ZipMap
 *    becomes its probabilities tensor) and the rewrite's sha256 matches when declared; the graph loads.
 * 2. signature: the graph matches the signature; the model definition is complete (class labels
 *    from the graph when left out, and the graph's classes agree with the definition's); every
 *    input can be fed (the transforms' matrix, or a feature column of a type it can take); the
 *    outputs give a prediction (regression) or probabilities (classifiers).
 * 3. transforms: every raw column the fitted transforms read is a feature of a compatible type.
 * 4. parity: the golden records' features and outputs are reproduced (when there are any).
 * 5. sample: the first chunk of `options.sample` is scored, and at least one row gets a prediction.
 */
export async function checkVersion(
  deps: CheckVersionDeps,
  pkg: VersionPackage,
  options: CheckVersionOptions = {},
): Promise<CheckedVersion> {
  const report = options.report ?? (() => undefined);

  const prepared = await step('artifact', () => prepareArtifact(deps.runtime, pkg));
  const artifactSha = sha256(prepared.bytes);
  const sourceSha = sha256(pkg.artifact);
  report(
    'artifact',
    `sha256 ${sourceSha}, ${pkg.artifact.length} bytes` +
      (prepared.rewrites.length > 0
        ? `; ${prepared.rewrites.join('; ')}; stored graph sha256 ${artifactSha}`
        : ''),
  );

  const { definition, feeds, model } = await step('signature', async () => {
    checkSignature(prepared.interface, pkg.signature);
    const definition = completeDefinition(pkg.model, prepared.classLabels);
    checkOutputColumns(definition);
    signatureRoles(pkg.signature, definition.task, definition.classLabels);
    const feeds = planModelInputs(pkg.signature, definition.features, pkg.transforms);
    const model = await deps.runtime.load({
      model: definition.name,
      version: pkg.version,
      sha256: artifactSha,
      signature: pkg.signature,
      task: definition.task,
      ...(definition.classLabels ? { classLabels: definition.classLabels } : {}),
      fetch: () => Promise.resolve(prepared.bytes),
    });
    await trialRun(model, feeds);
    return { definition, feeds, model };
  });
  report('signature', describeFeeds(feeds, model.roles, definition));
  const scoring: ScoringVersion = {
    definition,
    version: pkg.version,
    transform: modelInputsBuilder(feeds, pkg.transforms),
    model,
    valuesPerRow: valuesPerRow(feeds),
  };

  if (pkg.transforms) {
    const fitted = pkg.transforms;
    await step('transforms', () => {
      assertInputsMatchFeatures(fitted, definition.features);
      assertTransformsApply(fitted);
    });
    report(
      'transforms',
      `${fitted.inputs.length} raw column(s) in, ${fitted.output.length} features out, all read from features of the model (spec ${fitted.specHash})`,
    );
  }

  let parity: ParitySummary | undefined;
  if (pkg.goldenRecords && pkg.goldenRecords.length > 0) {
    const golden = pkg.goldenRecords;
    parity = await step('parity', () => checkParity(scoring, golden, pkg.transforms));
    report(
      'parity',
      `${parity.records} golden records match` +
        (parity.features < parity.records || parity.outputs < parity.records
          ? ` (features of ${parity.features}, model outputs of ${parity.outputs})`
          : ''),
    );
  }

  let sample: ChunkSummary | undefined;
  if (options.sample) sample = await step('sample', () => scoreSample(deps, scoring, options.sample!));
  if (sample) report('sample', describeSample(sample));

  return {
    definition,
    artifact: {
      bytes: prepared.bytes,
      sha256: artifactSha,
      sourceSha256: sourceSha,
      rewrites: prepared.rewrites,
    },
    signature: pkg.signature,
    ...(pkg.transforms ? { transforms: pkg.transforms } : {}),
    feeds,
    scoring,
    ...(parity ? { parity } : {}),
    ...(sample ? { sample } : {}),
  };
}

/**
 * Runs the model once on two made-up rows: a graph whose outputs are not the size its declared
 * shapes promise (a ZipMap naming more classes than its probabilities have, a class dimension
 * left dynamic that is another size) fails here with SIGNATURE_MISMATCH, not on every batch it
 * scores. Any other failure on such rows (an encoder refusing an unknown category) says nothing
 * about the graph, and is let through.
 */
async function trialRun(model: LoadedModel, feeds: readonly InputFeed[]): Promise<void> {
  try {
    await model.predict(trialInputs(feeds, 2));
  } catch (e) {
    if (isDomainError(e) && e.code === 'SIGNATURE_MISMATCH')
      throw errors.signatureMismatch(`a trial run on two rows: ${e.message}`, e.details);
  }
}

async function prepareArtifact(runtime: ModelRuntime, pkg: VersionPackage): Promise<PreparedArtifact> {
  const actual = sha256(pkg.artifact);
  if (pkg.artifactSha256 && pkg.artifactSha256 !== actual)
    throw errors.artifactIntegrity(
      `the artifact has sha256 ${actual}, the package says ${pkg.artifactSha256}`,
    );
  const prepared = await runtime.prepare(pkg.artifact);
  const stored = sha256(prepared.bytes);
  if (pkg.rewrittenSha256 && pkg.rewrittenSha256 !== stored)
    throw errors.artifactIntegrity(
      prepared.rewrites.length === 0
        ? `the package gives a rewritten sha256 ${pkg.rewrittenSha256}, but nothing in the graph is rewritten`
        : `the rewritten graph has sha256 ${stored}, the package says ${pkg.rewrittenSha256}`,
    );
  return prepared;
}

/** The definition with class labels from the graph when left out; the graph's classes must agree with given ones. */
function completeDefinition(model: unknown, graph: GraphClassLabels | undefined): ModelDefinition {
  const draft = parseOrThrow(modelDraftSchema, model, 'model definition');
  if (draft.task === 'regression') return parseOrThrow(modelInputSchema, draft, 'model definition');
  if (!draft.classLabels && !graph)
    throw errors.validation(
      'the model definition names no classLabels and the graph names none either (no ZipMap or classifier node with class labels)',
    );
  const definition = parseOrThrow(
    modelInputSchema,
    { ...draft, classLabels: draft.classLabels ?? graph!.labels },
    'model definition',
  );
  const labels = definition.classLabels!;
  if (graph?.ids) checkClassIds(graph.ids, labels, graph.from);
  else if (graph && JSON.stringify(graph.labels) !== JSON.stringify(labels))
    throw errors.signatureMismatch(
      `the graph's classes are ${JSON.stringify(graph.labels)} (${graph.from}), the model definition names ${JSON.stringify(labels)}: ` +
        "the probabilities come in the graph's order, so give the same labels in the same order, or leave classLabels out",
      { graphLabels: graph.labels, classLabels: labels },
    );
  return definition;
}

async function scoreSample(
  deps: CheckVersionDeps,
  scoring: ScoringVersion,
  sample: NonNullable<CheckVersionOptions['sample']>,
): Promise<ChunkSummary> {
  if (!deps.files || !deps.lake) throw new Error('scoring a sample needs the files and lake ports');
  const plan = await planChunks({ files: deps.files }, scoring.definition, sample.source);
  const first = plan.chunks[0];
  if (!first) throw errors.invalidInputFile(`the sample ${sample.name ?? sample.source} has no data rows`);
  const summary = await scoreChunk({ lake: deps.lake, files: deps.files }, scoring, {
    source: sample.source,
    runId: 'check',
    chunk: first,
    output: { partPath: sample.partPath, quarantinePath: sample.quarantinePath },
  });
  if (summary.rowsScored === 0)
    throw errors.invalidInputFile(`no row of the sample could be scored: ${describeSample(summary)}`, {
      rejectionReasons: summary.rejectionReasons,
    });
  return summary;
}

function describeSample(s: ChunkSummary): string {
  const reasons = Object.entries(s.rejectionReasons).map(([code, n]) => `${code}: ${n}`);
  return `${s.rowsRead} rows read, ${s.rowsScored} scored, ${s.rowsRejected} rejected${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`;
}

function describeFeeds(
  feeds: readonly InputFeed[],
  roles: ScoringVersion['model']['roles'],
  definition: ModelDefinition,
): string {
  const inputs = feeds.map((f) =>
    f.source === 'transforms'
      ? `'${f.name}' <- the transforms' ${f.width} features (${f.type})`
      : `'${f.name}' <- column '${f.feature.name}' (${f.type})`,
  );
  const outputs =
    roles.kind === 'regression'
      ? `prediction <- '${roles.prediction}'`
      : `label <- ${roles.label ? `'${roles.label}'` : roles.layout === 'positive' ? 'probability above 0.5' : 'the likeliest class'}, ` +
        `probabilities <- '${roles.probabilities}'${roles.layout === 'positive' ? ' (second class)' : ''}, classes ${JSON.stringify(definition.classLabels)}`;
  return `inputs ${inputs.join(', ')}; ${outputs}`;
}
