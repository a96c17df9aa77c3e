import type { ColumnVerdict } from '../schemas/drift';
import type { WindowSpan } from '../schemas/monitoring';
import { windowFromId } from './windows';

/**
 * Window verdicts a model's monitor state keeps (oldest dropped first): more than the longest
 * consecutive-windows rule (30), so runs interrupted by windows without enough data still count.
 */
export const RECENT_VERDICTS = 100;

/**
 * The windows the drift monitor evaluates next, oldest first: the complete ones (end <= now) that
 * start at or after `evaluatedUntil` (all of them on a first run), at most `max`.
 */
export function windowsToEvaluate(ids: Iterable<string>, lengthMs: number, evaluatedUntil: string | null, now: Date, max: number): WindowSpan[] {
  const from = evaluatedUntil === null ? -Infinity : Date.parse(evaluatedUntil);
  return [...new Set(ids)]
    .map((id) => windowFromId(id, lengthMs))
    .filter((w) => Date.parse(w.start) >= from && Date.parse(w.end) <= now.getTime())
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
    .slice(0, max);
}

/** The history with one more window verdict, bounded. */
export function rememberVerdict(recent: readonly ColumnVerdict[], verdict: ColumnVerdict): ColumnVerdict[] {
  return [...recent, verdict].slice(-RECENT_VERDICTS);
}
