import { CSV_BOUND_NAMES, type CsvLimits, DEFAULT_CSV_LIMITS } from '../shared/domain/csv-limits';

/** The CSV bounds as command-line options (same names as the app settings, docs/scoring.md). */
export const CSV_LIMIT_OPTIONS: Readonly<Record<string, keyof CsvLimits>> = {
  '--max-record-bytes': 'maxRecordBytes',
  '--max-field-bytes': 'maxFieldBytes',
  '--max-fields': 'maxFields',
};

export const CSV_LIMITS_USAGE = `  --max-record-bytes N   bytes in one CSV record (default ${DEFAULT_CSV_LIMITS.maxRecordBytes})
  --max-field-bytes N    bytes in one CSV field (default ${DEFAULT_CSV_LIMITS.maxFieldBytes})
  --max-fields N         fields in one CSV record (default ${DEFAULT_CSV_LIMITS.maxFields})`;

/** A bound's value from the command line: a positive whole number, or an error message. */
export function csvLimitValue(option: string, text: string): number | string {
  const n = Number(text);
  return /^\d+$/.test(text.trim()) && Number.isSafeInteger(n) && n > 0 ? n : `${option} takes a positive whole number of ${option === '--max-fields' ? 'fields' : 'bytes'}, not '${text}'`;
}

/**
 * `message` and, when it is about one of the CSV bounds, the option that raises that bound: for
 * refusals printed by a command that takes these options (the readers' messages name the bound
 * only, as the app prints them).
 */
export function withCsvOptionHint(message: string): string {
  const raising = Object.entries(CSV_LIMIT_OPTIONS).find(([, bound]) => message.includes(`(${CSV_BOUND_NAMES[bound]})`));
  if (!raising) return message;
  const [option, bound] = raising;
  return `${message}\n${option} N raises ${CSV_BOUND_NAMES[bound]}`;
}
