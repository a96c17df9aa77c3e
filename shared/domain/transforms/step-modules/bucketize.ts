import { z } from 'zod';

import { quantileSorted, sortedPresent } from '../stats';
import { defineStep, type IssueAt, noData, transformColumnSchema } from './step';

function checkEdges(edges: number[] | undefined, issue: IssueAt): void {
  if (edges?.some((e, j) => j > 0 && !(e > edges[j - 1]!))) issue(['edges'], 'edges must be strictly increasing');
}

/**
 * x -> number of edges <= x (0 .. edges.length), like numpy.digitize(x, edges). Edges are given
 * (strictly increasing) or fitted as the 1/q .. (q-1)/q quantiles for `quantiles: q` buckets
 * (duplicates removed).
 */
export const bucketizeStep = defineStep({
  type: 'bucketize',
  spec: z.object({
    type: z.literal('bucketize'),
    column: transformColumnSchema,
    output: transformColumnSchema.optional(),
    edges: z.array(z.number()).min(1).optional(),
    quantiles: z.number().int().min(2).max(1000).optional(),
  }),
  fitted: z.object({
    type: z.literal('bucketize'),
    column: transformColumnSchema,
    output: transformColumnSchema,
    edges: z.array(z.number()).min(1),
  }),
  check(step, issue) {
    if ((step.edges === undefined) === (step.quantiles === undefined))
      issue([], 'bucketize needs exactly one of edges or quantiles');
    checkEdges(step.edges, issue);
  },
  // numpy.digitize needs monotonic edges; a stored artifact may not have them.
  checkFitted: (step, issue) => checkEdges(step.edges, issue),
  reads: (step) => [step.column],
  fit(step, frame, where) {
    const values = frame.numeric(step.column, where);
    let edges = step.edges;
    if (!edges) {
      const sorted = sortedPresent(values);
      if (sorted.length === 0) throw noData(where, step.column);
      const q = step.quantiles!;
      const fitted: number[] = [];
      for (let k = 1; k < q; k += 1) {
        const e = quantileSorted(sorted, k / q);
        if (fitted.length === 0 || e > fitted[fitted.length - 1]!) fitted.push(e);
      }
      edges = fitted;
    }
    if (edges.length === 0) throw noData(where, step.column);
    return { type: 'bucketize' as const, column: step.column, output: step.output ?? step.column, edges };
  },
  writes: (step) => [step.output],
  touches: (step) => [step.column, step.output],
  apply(step, frame, _reject, where) {
    const n = frame.rows;
    const source = frame.numeric(step.column, where);
    const out = frame.output(source, step.column, step.output);
    const edges = Float64Array.from(step.edges);
    for (let i = 0; i < n; i += 1) {
      const v = source[i]!;
      if (v !== v) {
        out[i] = v;
        continue;
      }
      // Number of edges <= v: binary search for the first edge > v.
      let lo = 0;
      let hi = edges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (edges[mid]! <= v) lo = mid + 1;
        else hi = mid;
      }
      out[i] = lo;
    }
    frame.setNumeric(step.output, out);
  },
});
