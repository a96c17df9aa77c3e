import { errors } from '../domain/errors';
import {
  assertParity,
  checkTransformParity,
  compareModelOutputs,
  type ExpectedModelOutput,
  type GoldenRecord,
  type ParityMismatch,
  rowsToBatch,
} from '../domain/parity';
import type { FittedTransforms } from '../schemas/transforms';
import type { ScoringVersion } from './score-chunk';

/** How many golden records each part of the parity check compared. */
export interface ParitySummary {
  records: number;
  /** Records whose feature vectors were compared with the fitted transforms' output. */
  features: number;
  /** Records whose model outputs were compared. */
  outputs: number;
}

/**
 * Golden-record parity before a version scores anything: the fitted transforms must reproduce
 * the expected feature vectors, and the scoring path itself (the version's inputs built from the
 * golden inputs as from a validated batch, then the loaded model) the expected outputs, relative
 * tolerance 1e-6. Throws PARITY_MISMATCH naming the first difference; VALIDATION_ERROR for
 * expected features on a version without fitted transforms (its graph computes its own).
 */
export async function checkParity(
  version: ScoringVersion,
  golden: readonly GoldenRecord[],
  fitted: FittedTransforms | undefined,
): Promise<ParitySummary> {
  const withFeatures = golden.filter((g) => g.expectedFeatures).length;
  if (fitted) assertParity(checkTransformParity(fitted, golden), 'transforms');
  else if (withFeatures > 0) {
    const first = golden.findIndex((g) => g.expectedFeatures);
    throw errors.validation(
      `golden record ${first} gives expectedFeatures, but the version has no fitted transforms: its graph computes its own features, so give expectedOutput only`,
    );
  }
  const records = golden.flatMap((g, index) =>
    g.expectedOutput ? [{ index, input: g.input, expected: g.expectedOutput }] : [],
  );
  if (records.length > 0) await compareOutputs(version, golden.length, records);
  return { records: golden.length, features: fitted ? withFeatures : 0, outputs: records.length };
}

async function compareOutputs(
  version: ScoringVersion,
  total: number,
  records: readonly { index: number; input: GoldenRecord['input']; expected: ExpectedModelOutput }[],
): Promise<void> {
  const batch = rowsToBatch(
    version.definition.features,
    records.map((r) => r.input),
  );
  const fed = version.transform(batch);
  const rejected = fed.rejected.map(({ row, reason }): ParityMismatch => ({
    record: records[row]!.index,
    index: null,
    feature: null,
    expected: null,
    actual: null,
    message: `golden record ${records[row]!.index} cannot be scored: ${reason}`,
  }));
  assertParity({ ok: rejected.length === 0, mismatches: rejected }, 'model outputs');
  const out = await version.model.predict(fed.inputs);
  // Both lists indexed by golden record, so messages name the record as the file numbers it.
  const expected = new Array<ExpectedModelOutput | undefined>(total);
  const actual = new Array<ExpectedModelOutput>(total).fill({ prediction: '' });
  records.forEach((r, k) => {
    expected[r.index] = r.expected;
    actual[r.index] =
      out.kind === 'regression'
        ? { prediction: out.values[k]! }
        : {
            prediction: out.labels[k]!,
            probabilities: Array.from(
              out.probabilities.subarray(k * out.classCount, (k + 1) * out.classCount),
            ),
          };
  });
  assertParity(compareModelOutputs(expected, actual), 'model outputs');
}
