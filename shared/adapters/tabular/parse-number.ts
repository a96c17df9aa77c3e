const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_FAST_DIGITS = 15;

const Ch = {
  LineFeed: 10,
  Space: 32,
  Plus: 43,
  Minus: 45,
  Dot: 46,
  Zero: 48,
  Nine: 57,
  UpperE: 69,
  LowerE: 101,
} as const;

function special(buf: Buffer, b: number, e: number, negative: boolean): number {
  let word = '';
  for (let i = b; i < e; i += 1) word += String.fromCharCode(buf[i]! | 0x20);
  if (word === 'nan') return NaN;
  if (word === 'inf' || word === 'infinity') return negative ? -Infinity : Infinity;
  return NaN;
}

/**
 * Parses a decimal number straight from bytes, without building a string. Up to 15 significant
 * digits and a power of ten up to 22 are exact in a double, so one multiplication or division
 * gives the correctly rounded result (Clinger's fast path); anything longer falls back to
 * `Number` on the checked text, so results always equal `Number(text)`. Returns NaN for text that
 * is not a number; `NaN`, `inf` and `Infinity` (any case, optional sign) parse as themselves.
 */
export function parseNumberBytes(buf: Buffer, begin: number, end: number): number {
  parseNumberInto(buf, begin, end, scratch, 0);
  return scratch[0]!;
}

const scratch = new Float64Array(1);

/**
 * parseNumberBytes, storing the result in `out[at]`: a double written to a typed array stays
 * unboxed, where one returned from a call that is not inlined becomes a heap number.
 */
export function parseNumberInto(buf: Buffer, begin: number, end: number, out: Float64Array, at: number): void {
  let b = begin;
  let e = end;
  while (b < e && buf[b] === Ch.Space) b += 1;
  while (e > b && buf[e - 1] === Ch.Space) e -= 1;
  let i = b;
  let negative = false;
  if (i < e && (buf[i] === Ch.Minus || buf[i] === Ch.Plus)) {
    negative = buf[i] === Ch.Minus;
    i += 1;
  }
  let mantissa = 0;
  let digits = 0;
  let sawDigit = false;
  let scale = 0;
  // Bytes are read only below `e`: a read past the buffer's end would make `c` undefined and
  // this loop polymorphic.
  let c = 0;
  for (; i < e; i += 1) {
    c = buf[i]!;
    if (c < Ch.Zero || c > Ch.Nine) break;
    sawDigit = true;
    if (digits > 0 || c !== Ch.Zero) {
      mantissa = mantissa * 10 + (c - Ch.Zero);
      digits += 1;
    }
  }
  if (i < e && c === Ch.Dot) {
    for (i += 1; i < e; i += 1) {
      c = buf[i]!;
      if (c < Ch.Zero || c > Ch.Nine) break;
      sawDigit = true;
      if (digits > 0 || c !== Ch.Zero) {
        mantissa = mantissa * 10 + (c - Ch.Zero);
        digits += 1;
      }
      scale -= 1;
    }
  }
  if (b === e) {
    out[at] = NaN;
    return;
  }
  if (!sawDigit) {
    out[at] = special(buf, negative || buf[b] === Ch.Plus ? b + 1 : b, e, negative);
    return;
  }
  if (i < e && (c === Ch.LowerE || c === Ch.UpperE)) {
    i += 1;
    let expNegative = false;
    if (i < e && (buf[i] === Ch.Minus || buf[i] === Ch.Plus)) {
      expNegative = buf[i] === Ch.Minus;
      i += 1;
    }
    let exp = 0;
    let expDigits = 0;
    while (i < e && buf[i]! >= Ch.Zero && buf[i]! <= Ch.Nine) {
      if (exp < 100000) exp = exp * 10 + (buf[i]! - Ch.Zero);
      expDigits += 1;
      i += 1;
    }
    if (expDigits === 0) {
      out[at] = NaN;
      return;
    }
    scale += expNegative ? -exp : exp;
  }
  if (i !== e) out[at] = NaN;
  else if (digits <= MAX_FAST_DIGITS && scale >= -22 && scale <= 22) {
    const v = scale < 0 ? mantissa / POW10[-scale]! : mantissa * POW10[scale]!;
    out[at] = negative ? -v : v;
  } else out[at] = Number(buf.toString('latin1', b, e));
}

/**
 * The common case of a CSV numeric field, parsed while tokenizing: `[-]digits[.digits]` followed
 * directly by the delimiter or LF, with at most 15 significant digits and 22 decimals. Stores the
 * value in `out[at]` and returns the field's end (the terminator's index); returns -1 for
 * anything else (spaces, exponents, quotes, words, CR, the window's end), which the caller then
 * tokenizes and parses the general way. Same arithmetic as parseNumberInto, so the same result.
 */
export function parsePlainNumberField(buf: Buffer, begin: number, end: number, delimiter: number, out: Float64Array, at: number): number {
  let i = begin;
  const negative = i < end && buf[i] === Ch.Minus;
  if (negative) i += 1;
  let mantissa = 0;
  let digits = 0;
  let sawDigit = false;
  let scale = 0;
  let c = -1;
  for (; i < end; i += 1) {
    c = buf[i]!;
    const d = c - Ch.Zero;
    if (d < 0 || d > 9) break;
    sawDigit = true;
    if (digits > 0 || d !== 0) {
      mantissa = mantissa * 10 + d;
      digits += 1;
    }
  }
  if (i < end && c === Ch.Dot) {
    for (i += 1; i < end; i += 1) {
      c = buf[i]!;
      const d = c - Ch.Zero;
      if (d < 0 || d > 9) break;
      sawDigit = true;
      if (digits > 0 || d !== 0) {
        mantissa = mantissa * 10 + d;
        digits += 1;
      }
      scale -= 1;
    }
  }
  if (i >= end || !sawDigit || digits > MAX_FAST_DIGITS || scale < -22) return -1;
  c = buf[i]!;
  if (c !== delimiter && c !== Ch.LineFeed) return -1;
  const v = scale < 0 ? mantissa / POW10[-scale]! : mantissa;
  out[at] = negative ? -v : v;
  return i;
}

