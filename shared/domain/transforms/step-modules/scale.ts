import type { Frame } from '../frame';
import type { IssueAt } from './step';

/** A stored scale of 0 would divide by zero: every row's feature would be NaN or infinite and the row rejected. */
export function checkScale(step: { columns: string[]; scale: number[] }, issue: IssueAt): void {
  step.scale.forEach((s, j) => {
    if (s === 0) issue(['scale', j], `scale 0 for '${step.columns[j]}' divides by zero (a constant column is fitted with scale 1)`);
  });
}

/**
 * `(x - shift[j]) / scale[j]` for each column into its output, in one pass (standardize, min_max).
 * In place when the output replaces a column the frame owns.
 */
export function shiftAndScale(
  frame: Frame,
  step: { columns: string[]; outputs: string[] },
  shift: readonly number[],
  scaleBy: readonly number[],
  where: string,
): void {
  const n = frame.rows;
  step.columns.forEach((name, j) => {
    const source = frame.numeric(name, where);
    const output = step.outputs[j]!;
    const out = frame.output(source, name, output);
    const s = shift[j]!;
    const scale = scaleBy[j]!;
    // In place, one array to index is cheaper than two (the loop is that short).
    if (out === source) for (let i = 0; i < n; i += 1) out[i] = (out[i]! - s) / scale;
    else for (let i = 0; i < n; i += 1) out[i] = (source[i]! - s) / scale;
    frame.setNumeric(output, out);
  });
}
