import { z } from 'zod';

import type { RejectRow } from '../frame';
import { checkCategories, fitCategories } from './categories';
import { columnsSchema, defineStep, invalid, transformColumnSchema } from './step';

/** How a category not seen in training is handled at inference. */
export const unseenCategoryPolicySchema = z.enum(['error', 'ignore', 'other']);

const fitted = z.object({
  type: z.literal('one_hot'),
  column: transformColumnSchema,
  categories: z.array(z.string()).min(1),
  unseen: unseenCategoryPolicySchema,
  /** One name per category, plus the `other` bucket last when unseen is `other`. */
  outputs: columnsSchema,
});
type FittedOneHot = z.output<typeof fitted>;

/**
 * One output column per category, named `<prefix><category>` (prefix defaults to `<column>_`).
 * Unseen categories: `error` rejects the row, `ignore` writes all zeros, `other` sets an extra
 * last column `<prefix>__other__`. A missing value (null) rejects the row: impute first.
 */
export const oneHotStep = defineStep({
  type: 'one_hot',
  spec: z.object({
    type: z.literal('one_hot'),
    column: transformColumnSchema,
    /** Given categories in output order; omitted means fitted: the distinct values, sorted. */
    categories: z.array(z.string()).min(1).optional(),
    unseen: unseenCategoryPolicySchema.default('error'),
    prefix: z.string().max(100).optional(),
  }),
  fitted,
  check: checkCategories,
  // A stored artifact may repeat a category: the outputs of all but one would never be set.
  checkFitted: checkCategories,
  parameterLengths: (step) => [
    ['outputs', step.outputs.length, step.categories.length + (step.unseen === 'other' ? 1 : 0)],
  ],
  reads: (step) => [step.column],
  categoricalReads: (step) => [step.column],
  fit(step, frame, where) {
    const categories = fitCategories(step, frame, where);
    const prefix = step.prefix ?? `${step.column}_`;
    const outputs = categories.map((c) => `${prefix}${c}`);
    if (step.unseen === 'other') outputs.push(`${prefix}__other__`);
    if (new Set(outputs).size !== outputs.length)
      throw invalid(`${where}: one-hot output names collide (categories ${JSON.stringify(categories)})`);
    return { type: 'one_hot' as const, column: step.column, categories, unseen: step.unseen, outputs };
  },
  writes: (step) => step.outputs,
  touches: (step) => [step.column, ...step.outputs],
  apply(step, frame, reject, where) {
    const n = frame.rows;
    const codes = new Int32Array(n);
    oneHotCodes(step, frame.categorical(step.column, where), n, where, reject, codes);
    const outs = step.outputs.map(() => frame.alloc(true));
    for (let i = 0; i < n; i += 1) {
      const k = codes[i]!;
      if (k >= 0) outs[k]![i] = 1;
    }
    step.outputs.forEach((name, k) => frame.setNumeric(name, outs[k]!));
  },
  indicatorCodes(step, frame, rows, reject, where, codes) {
    oneHotCodes(step, frame.categorical(step.column, where), rows, where, reject, codes);
  },
});

/** Size of the per-block cache of recent values. */
const SLOT_BITS = 6;
const SLOTS = 1 << SLOT_BITS;
const NO_SLOT = -1;

/**
 * Writes for rows 0..rows-1 the one-hot output each row sets, as an index into `step.outputs`, or
 * -1 when it sets none (an unseen category under `ignore`, or a rejected row). Rejects missing
 * values, and unseen categories under `error`, with the messages of the step.
 */
export function oneHotCodes(
  step: FittedOneHot,
  values: ReadonlyArray<string | null>,
  rows: number,
  where: string,
  reject: RejectRow,
  codes: Int32Array,
): void {
  const index = new Map(step.categories.map((c, k) => [c, k]));
  const unseen = step.unseen === 'other' ? step.categories.length : -1;
  const rejectUnseen = step.unseen === 'error';
  // Readers intern categories, so a column holds a few string objects many times over. A small
  // table remembers the code of the last value seen in each slot: a hit is one === (pointer-equal
  // for the same object, and still right for an equal string), far cheaper than the Map's lookup.
  const slotValue = new Array<string | undefined>(SLOTS);
  const slotCode = new Int32Array(SLOTS);
  for (let i = 0; i < rows; i += 1) {
    const v = values[i]!;
    if (v === null) {
      codes[i] = -1;
      reject(i, `${where}: missing value in categorical '${step.column}' (no imputer)`);
      continue;
    }
    // Anything but a string (outside the batch's type) skips the cache and goes to the Map.
    const slot = typeof v === 'string' ? slotOf(v) : NO_SLOT;
    if (slot !== NO_SLOT && slotValue[slot] === v) {
      codes[i] = slotCode[slot]!;
      continue;
    }
    const k = index.get(v);
    if (k === undefined && rejectUnseen) {
      codes[i] = -1;
      reject(i, `${where}: unseen category ${JSON.stringify(v)} in '${step.column}'`);
      continue;
    }
    const code = k ?? unseen;
    if (slot !== NO_SLOT) {
      slotValue[slot] = v;
      slotCode[slot] = code;
    }
    codes[i] = code;
  }
}

/**
 * A slot for a value from its length and first, middle and last characters (multiplicative
 * hashing keeps the top bits). Values alike in those share a slot, and then take turns in it.
 */
function slotOf(v: string): number {
  const mix =
    v.length * 961 + v.charCodeAt(0) * 31 + v.charCodeAt(v.length >> 1) * 7 + v.charCodeAt(v.length - 1);
  return Math.imul(mix, 0x9e3779b1) >>> (32 - SLOT_BITS);
}
