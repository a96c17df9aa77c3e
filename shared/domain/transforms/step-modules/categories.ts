import type { Frame } from '../frame';
import { distinctCategories } from '../stats';
import { type IssueAt, noData } from './step';

/** Categories a spec gives must be distinct. */
export function checkCategories(step: { categories?: string[] | undefined }, issue: IssueAt): void {
  if (step.categories && new Set(step.categories).size !== step.categories.length)
    issue(['categories'], 'categories must be distinct');
}

/** The categories of a categorical step: as the spec gives them, or fitted (the distinct values, sorted). */
export function fitCategories(
  step: { column: string; categories?: string[] | undefined },
  frame: Frame,
  where: string,
): string[] {
  const categories = step.categories ?? distinctCategories(frame.categorical(step.column, where));
  if (categories.length === 0) throw noData(where, step.column);
  return categories;
}
