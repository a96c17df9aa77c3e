/**
 * `npm run bench [-- name ...]`: runs every compiled `bench/*.bench.js` (or the named ones) in its
 * own Node process, one after another so they do not compete for the two cores, and prints
 * their figures. Benchmarks print their own figures and ratios; none of them fails a build.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const wanted = process.argv.slice(2);
const benches = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

if (benches.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ') || '(any)'}`);
  process.exit(1);
}
let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file.replace(/\.bench\.js$/, '')}`);
  const result = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
