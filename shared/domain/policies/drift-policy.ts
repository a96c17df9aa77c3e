/**
 * Pure evaluation of a model's drift policy for one monitoring window.
 *
 * - A window is *drifting* when the whole window, or (with perSegment) any segment with enough
 *   data, meets the share-of-drifted-columns rule.
 * - `breach` when it has been drifting for `consecutiveWindows` windows in a row (this one
 *   included; windows with insufficient data neither extend nor break the run); `warning` when
 *   drifting for fewer, or when some columns drift below the share rule; `ok` otherwise;
 *   `insufficient_data` when neither the window nor any segment had enough data.
 * - A breach raises an alert unless the previous alert is younger than `cooldown`.
 */
import type { ColumnVerdict, DriftEvaluation, DriftReport, PolicyReason, PolicyVerdict } from '../../schemas/drift';
import type { DriftPolicy } from '../../schemas/policies';
import { addIsoDuration } from './duration';

export type { DriftEvaluation, PolicyReason, PolicyVerdict };

export interface DriftWindowInput {
  overall: DriftReport;
  /** Reports per segment, keyed by a readable segment id such as "region=north". */
  segments?: Readonly<Record<string, DriftReport>>;
}

export interface DriftHistory {
  /** Window verdicts before this one, oldest first. */
  recent: readonly ColumnVerdict[];
  /** When the last alert was raised (ISO 8601), if any. */
  lastAlertAt?: string | null;
}

function columnReasons(report: DriftReport, segment?: string): PolicyReason[] {
  return report.columns
    .filter((c) => c.verdict !== 'no_drift')
    .map((c) => ({
      scope: 'column' as const,
      ...(segment === undefined ? {} : { segment }),
      column: c.name,
      verdict: c.verdict,
      message: `${c.name} (${c.method}): ${c.reason}`,
    }));
}

export function evaluateDriftPolicy(
  policy: DriftPolicy,
  input: DriftWindowInput,
  history: DriftHistory,
  now: Date,
): DriftEvaluation {
  const reasons: PolicyReason[] = [];
  const reports: Array<[string | undefined, DriftReport]> = [[undefined, input.overall]];
  if (policy.perSegment) for (const [k, r] of Object.entries(input.segments ?? {})) reports.push([k, r]);

  let drifting = false;
  let anyEvaluated = false;
  let someColumnDrift = false;
  for (const [segment, report] of reports) {
    if (report.verdict === 'insufficient_data') {
      reasons.push({
        scope: segment === undefined ? 'dataset' : 'segment',
        ...(segment === undefined ? {} : { segment }),
        verdict: 'insufficient_data',
        message: `${segment ?? 'window'}: no column had enough data`,
      });
      continue;
    }
    anyEvaluated = true;
    if (report.datasetDrift) drifting = true;
    if (report.driftedColumns > 0) someColumnDrift = true;
    reasons.push({
      scope: segment === undefined ? 'dataset' : 'segment',
      ...(segment === undefined ? {} : { segment }),
      verdict: report.verdict,
      message: `${segment ?? 'window'}: ${report.driftedColumns} of ${report.evaluatedColumns} columns drifted (share ${report.shareDrifted.toFixed(3)}, rule >= ${policy.shareDriftedColumns})`,
    });
    reasons.push(...columnReasons(report, segment));
  }

  const windowVerdict: ColumnVerdict = !anyEvaluated ? 'insufficient_data' : drifting ? 'drift' : 'no_drift';
  let consecutive = 0;
  if (drifting) {
    consecutive = 1;
    for (let i = history.recent.length - 1; i >= 0; i--) {
      const v = history.recent[i];
      if (v === 'insufficient_data') continue;
      if (v !== 'drift') break;
      consecutive++;
    }
  }

  let verdict: PolicyVerdict;
  if (!anyEvaluated) verdict = 'insufficient_data';
  else if (drifting && consecutive >= policy.consecutiveWindows) verdict = 'breach';
  else if (drifting || someColumnDrift) verdict = 'warning';
  else verdict = 'ok';
  if (drifting) {
    reasons.unshift({
      scope: 'dataset',
      verdict,
      message: `drifting for ${consecutive} of ${policy.consecutiveWindows} consecutive windows needed for a breach`,
    });
  }

  let alert = verdict === 'breach';
  let cooldownUntil: string | null = null;
  if (history.lastAlertAt) {
    const until = addIsoDuration(new Date(history.lastAlertAt), policy.cooldown);
    if (until.getTime() > now.getTime()) {
      cooldownUntil = until.toISOString();
      if (alert) {
        alert = false;
        reasons.unshift({ scope: 'dataset', verdict, message: `breach without alert: cooldown until ${cooldownUntil}` });
      }
    }
  }
  return { verdict, windowVerdict, consecutive, alert, cooldownUntil, reasons };
}
