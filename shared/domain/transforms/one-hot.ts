import type { FittedStep } from '../../schemas/transforms';
import type { RejectRow } from './frame';

/** Size of the per-block cache of recent values. */
const SLOT_BITS = 6;
const SLOTS = 1 << SLOT_BITS;
const NO_SLOT = -1;

type OneHotStep = Extract<FittedStep, { type: 'one_hot' }>;

/**
 * Writes for rows 0..rows-1 the one-hot output each row sets, as an index into `step.outputs`, or
 * -1 when it sets none (an unseen category under `ignore`, or a rejected row). Rejects missing
 * values, and unseen categories under `error`, with the messages of the step.
 */
export function oneHotCodes(
  step: OneHotStep,
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
  const mix = v.length * 961 + v.charCodeAt(0) * 31 + v.charCodeAt(v.length >> 1) * 7 + v.charCodeAt(v.length - 1);
  return Math.imul(mix, 0x9e3779b1) >>> (32 - SLOT_BITS);
}
