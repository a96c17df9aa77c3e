/**
 * A child process for test/unit/scoring/cli-score.test.ts: scores into parts next to the output
 * given as argv[2], with a chunk that never finishes, so the test can interrupt it with a signal.
 */
import fs from 'node:fs';

import { scoreInParts } from '../../cli/score-parts';

const output = process.argv[2]!;
const chunks = [{ format: 'parquet' as const, index: 0, rowGroupStart: 0, rowGroupEnd: 1, firstRow: 1, rows: 1 }];
// A pending promise alone does not keep Node running.
setInterval(() => undefined, 60_000);
void scoreInParts(chunks, output, `${output}.rejected.jsonl`, (_chunk, part) => {
  fs.writeFileSync(part, 'PAR1');
  process.stdout.write('scoring\n');
  return new Promise(() => undefined);
});
