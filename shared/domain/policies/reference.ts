/**
 * Which stored windows form the reference of a monitoring window, by the model's policy:
 * the training profile, the last N windows, or the same period one season (3 months) or one
 * year earlier, so that seasonal patterns are compared with their own season.
 */
import type { ReferenceWindow } from '../../schemas/policies';
import { addIsoDuration } from './duration';

export interface WindowSpan {
  /** Inclusive start, ISO 8601. */
  start: string;
  /** Exclusive end, ISO 8601. */
  end: string;
}

export type ReferenceSelection<T extends WindowSpan> =
  | { source: 'training' }
  | {
      source: 'windows';
      /** Ascending by start; merge their profiles to form the reference. */
      windows: T[];
      /** False when fewer stored windows exist than the policy asks for. */
      complete: boolean;
      wanted: number;
    };

const LAG = { season: 'P3M', year: 'P1Y' } as const;

export function selectReference<T extends WindowSpan>(
  reference: ReferenceWindow,
  current: WindowSpan,
  stored: readonly T[],
): ReferenceSelection<T> {
  if (reference.kind === 'training') return { source: 'training' };
  const byStart = [...stored].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const currentStart = Date.parse(current.start);
  if (reference.kind === 'rolling') {
    const before = byStart.filter((w) => Date.parse(w.end) <= currentStart);
    const windows = before.slice(-reference.windows);
    return { source: 'windows', windows, complete: windows.length === reference.windows, wanted: reference.windows };
  }
  const { from, to } = samePeriodSpan(reference, current);
  const windows = byStart.filter((w) => {
    const s = Date.parse(w.start);
    return s >= from && s < to;
  });
  return { source: 'windows', windows, complete: windows.length === reference.windows, wanted: reference.windows };
}

/** The instants [from, to) whose windows form a `same_period` reference: the lagged span, `windows` windows long. */
export function samePeriodSpan(reference: Extract<ReferenceWindow, { kind: 'same_period' }>, current: WindowSpan): { from: number; to: number } {
  const currentStart = Date.parse(current.start);
  const from = addIsoDuration(new Date(currentStart), LAG[reference.lag], -1).getTime();
  return { from, to: from + (Date.parse(current.end) - currentStart) * reference.windows };
}
