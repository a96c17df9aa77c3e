import type { Readable } from 'node:stream';

import { parseOrThrow } from '../../domain/errors';
import { lakePaths } from '../../domain/lake-paths';
import { unmatchedLineSchema } from '../../schemas/actuals';
import { type ActualsDeps, listPaths } from './deps';

/** The lines of a JSON-lines object, one at a time. */
async function* linesOf(stream: Readable): AsyncGenerator<string> {
  let rest = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest.length > 0) yield rest;
}

/**
 * The `unmatched` lines of one quarantine file of a join (one bucket: a bounded number of ids),
 * each with its line number. A line that is not JSON throws a SyntaxError, one that is not an
 * unmatched line a DomainError: the join did not write the file.
 */
export async function* unmatchedLines(deps: Pick<ActualsDeps, 'lake'>, path: string): AsyncGenerator<{ line: number; row: number; cells: [string, string] }> {
  let n = 0;
  for await (const line of linesOf(await deps.lake.read(path))) {
    n += 1;
    if (line.length === 0 || !line.includes('"unmatched"')) continue;
    const parsed: unknown = JSON.parse(line);
    if ((parsed as { code?: unknown }).code !== 'unmatched') continue;
    const { row, cells } = parseOrThrow(unmatchedLineSchema, parsed, `line ${n} of the quarantine file ${path}`);
    yield { line: n, row, cells };
  }
}

/** A join's quarantine files, one per bucket, in bucket order. */
export async function quarantineBuckets(deps: Pick<ActualsDeps, 'lake'>, model: string, actualsId: string): Promise<string[]> {
  return (await listPaths(deps.lake, lakePaths.quarantineFolder(model, actualsId), '.jsonl')).filter((p) => /\/bucket-\d+\.jsonl$/.test(p)).sort();
}
