/**
 * Bounds on one CSV record, so that a broken or hostile file (a 50 MB line of commas, a quote
 * never closed) costs bounded memory and time linear in its size, and loses nothing else: the
 * offending record is rejected with the reason and reading goes on.
 *
 * The framing rule, shared by the chunk planner and the parser so that they cut records at the
 * same places: a record ends at the first LF outside quotes, as always, if that comes within
 * `maxRecordBytes` of its start. If it does not:
 * - when the bytes at the limit are inside a quoted field, and the line where that quote opened
 *   ends before the limit, the quote is taken as never closed: the record is cut at the end of
 *   that line and reading resumes with the next line (so one stray quote on row 1 costs one
 *   rejected row, not the rest of the file);
 * - otherwise the record is oversized: it ends at the first LF at or after the limit, quotes or
 *   not, and is skipped without being held in memory.
 * At the end of the input a quote that is still open is cut at the end of its line the same way.
 */
export interface CsvLimits {
  /** Bytes from the start of a record to its end (a line, or several with quoted newlines). */
  maxRecordBytes: number;
  /** Bytes in one field. A longer field makes its row unreadable (rejected with the reason). */
  maxFieldBytes: number;
  /** Fields in one record. More make the row unreadable; only this many are kept for the quarantine. */
  maxFields: number;
}

export const DEFAULT_CSV_LIMITS: Readonly<CsvLimits> = {
  maxRecordBytes: 4 * 1024 * 1024,
  maxFieldBytes: 1024 * 1024,
  maxFields: 10_000,
};

/** How refusals name each bound, so that a caller (the CLI) can tell which one a message is about. */
export const CSV_BOUND_NAMES: Readonly<Record<keyof CsvLimits, string>> = {
  maxRecordBytes: 'the record bound',
  maxFieldBytes: 'the field bound',
  maxFields: 'the field-count bound',
};

/** Positive whole numbers for every bound, the defaults for those not given. */
export function csvLimits(given: Partial<CsvLimits> = {}): CsvLimits {
  const limits = { ...DEFAULT_CSV_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits))
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`the CSV bound ${name} must be a positive whole number, not ${value}`);
  return limits;
}
