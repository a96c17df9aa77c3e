import { documentBytes } from '../domain/document-size';
import type { ModelEventInput } from '../schemas/messages';
import type { InferenceRun } from '../schemas/monitoring';

/**
 * The values a `flavour.detected` event lists, as JSON: a Service Bus message holds 256 KB, and a
 * drop can bring thousands of new segment values (a new store id per row). The run document keeps
 * them all; the event lists what fits and counts the rest in `omittedValues`.
 */
export const MAX_FLAVOUR_EVENT_VALUE_BYTES = 64 * 1024;

/** A list of values per key, within what is left of the budget; the count of those left out. */
function withinBudget(lists: Record<string, string[]>, budget: { bytes: number }, omitted: Record<string, number>): Record<string, string[]> {
  const kept: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(lists)) {
    kept[key] = [];
    for (const value of values) {
      const bytes = documentBytes(value) + 1;
      if (bytes > budget.bytes) break;
      budget.bytes -= bytes;
      kept[key].push(value);
    }
    const left = values.length - kept[key].length;
    if (left > 0) omitted[key] = (omitted[key] ?? 0) + left;
  }
  return kept;
}

/** The `flavour.detected` event of a completed run with new segment values (id `run:{runId}:flavours`). */
export function flavourEventOf(run: InferenceRun & { flavours: NonNullable<InferenceRun['flavours']> }): ModelEventInput {
  const budget = { bytes: MAX_FLAVOUR_EVENT_VALUE_BYTES };
  const omitted: Record<string, number> = {};
  const { flavours } = run;
  const newSegmentValues = withinBudget(flavours.newSegmentValues, budget, omitted);
  const unseenCategories = withinBudget(
    Object.fromEntries(Object.entries(flavours.unseenCategories).map(([k, v]) => [k, v.values])),
    budget,
    omitted,
  );
  return {
    eventId: `run:${run.runId}:flavours`,
    model: run.modelName,
    ...(run.version !== null ? { version: run.version } : {}),
    occurredAt: run.completedAt ?? run.createdAt,
    type: 'flavour.detected',
    data: {
      runId: run.runId,
      newSegmentValues,
      unseenCategories,
      outOfRange: Object.fromEntries(Object.entries(flavours.outOfRange).map(([k, v]) => [k, v.below + v.above])),
      ...(Object.keys(omitted).length > 0 ? { omittedValues: omitted } : {}),
      ...(flavours.segmentValuesCapped ? { segmentValuesCapped: flavours.segmentValuesCapped } : {}),
    },
  };
}

/** The `run.failed` event of a batch or scheduled run (id `run:{runId}:failed`: a repeated publish is dropped by the topic). */
export function runFailedEventOf(input: { model: string; runId: string; error: string; at: string }): ModelEventInput {
  return { eventId: `run:${input.runId}:failed`, model: input.model, occurredAt: input.at, type: 'run.failed', data: { runId: input.runId, error: input.error.slice(0, 2000) } };
}
