/**
 * A JSON number whose text the double JSON.parse reads does not hold as written: more significant
 * digits than a double keeps (`0.12345678901234567891` reads as `0.12345678901234568`), a whole
 * number past 2^53 that falls between doubles, or one past a double's range. Kept with the text
 * sent, where a route asks for it, so an id is refused rather than answered rounded.
 */
export class InexactJsonNumber {
  constructor(
    /** The number as the client wrote it. */
    readonly sent: string,
    /** The double JSON.parse reads from it. */
    readonly value: number,
  ) {}

  /** Written back as JSON reads it, as every other number is. */
  toJSON(): number {
    return this.value;
  }
}

/** A decimal written as text, split as JSON writes a number (and as String(number) does). */
const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The value a decimal text denotes, as one canonical key (`-12345e-3`): its significant digits
 * without leading or trailing zeros and the power of ten they are scaled by. Zero is `0` whatever
 * its sign (`-0` and `0` are the same number sent). Exponents are BigInts: `1e-99999999999999999999`
 * is a number too, not zero.
 */
function decimalKey(text: string): string | undefined {
  const parts = DECIMAL_TEXT.exec(text);
  if (!parts) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = parts;
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  const scale = BigInt(exponent) - BigInt(fraction.length) + BigInt(digits.length - significant.length);
  return `${sign}${significant}e${scale}`;
}

/**
 * Whether the double JSON reads from a number's text is the number written: the double's shortest
 * text (String(value), what an id is answered as) denotes the same decimal. `1.5`, `1e3` and `0.1`
 * are held; `0.12345678901234567891`, `9007199254740993` and `1e400` are not.
 */
export function doubleHoldsNumberText(text: string): boolean {
  // A decimal of at most 15 significant digits (DBL_DIG) between 1e-13 and 1e15 always round-trips.
  if (text.length <= 15 && !/[eE]/.test(text)) return true;
  const value = Number(text);
  if (!Number.isFinite(value)) return false;
  const shortest = String(value);
  if (shortest === text) return true; // what JSON.stringify writes: most numbers sent
  const sent = decimalKey(text);
  return sent !== undefined && sent === decimalKey(shortest);
}
