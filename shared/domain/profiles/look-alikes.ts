/**
 * Unseen categorical values that are a known value written differently: spaces around it or
 * another letter case (`' north'`, `'North'` for `'north'`). Scoring compares categories exactly,
 * as the model was trained, so such a value is scored as an unseen category; naming the known
 * value it resembles lets an operator see a data-entry or export problem in the run's flavours.
 */
export interface LookAlike {
  /** The value as the data had it. */
  value: string;
  /** The known value it matches once both are trimmed and lower-cased. */
  known: string;
}

const spellingKey = (value: string): string => value.trim().toLowerCase();

/** The look-alikes among `unseen`, in its order; `known` values earlier in the list win a tie. */
export function lookAlikesOf(unseen: readonly string[], known: Iterable<string>): LookAlike[] {
  const exact = new Set<string>();
  const byKey = new Map<string, string>();
  for (const value of known) {
    exact.add(value);
    const key = spellingKey(value);
    if (!byKey.has(key)) byKey.set(key, value);
  }
  return unseen.flatMap((value) => {
    const match = exact.has(value) ? undefined : byKey.get(spellingKey(value));
    return match === undefined ? [] : [{ value, known: match }];
  });
}
