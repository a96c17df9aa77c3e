import { type CsvLimits, DEFAULT_CSV_LIMITS } from '../shared/domain/csv-limits';

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
