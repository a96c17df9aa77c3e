/**
 * Child process for the package test: loads an app directory the way devhost does (devhost's
 * worker, package.json `main` or `--main`) and prints the functions it registered as JSON on
 * stdout. `--require-deps` also requires every dependency in the app's package.json from the app
 * directory, which catches a package that the entry points only load lazily.
 *
 * Usage: node -r test/support/register-ts.js test/support/list-app-functions.ts <appDir> [--main glob] [--require-deps]
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { FunctionsWorker, loadApp } from '../../devhost/worker';

const args = process.argv.slice(2);
const appDir = path.resolve(args[0] ?? '.');
const mainAt = args.indexOf('--main');
const main = mainAt >= 0 ? args[mainAt + 1] : undefined;

const worker = new FunctionsWorker();
loadApp(worker, appDir, main);
const functions = worker
  .listFunctions()
  .map((f) => ({ name: f.name, trigger: f.trigger.type }))
  .sort((a, b) => a.name.localeCompare(b.name));

const required: string[] = [];
if (args.includes('--require-deps')) {
  const pkgFile = path.join(appDir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { dependencies?: Record<string, string> };
  const requireFromApp = createRequire(pkgFile);
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    requireFromApp(name);
    // Where it came from, so the test can check nothing resolved outside the app directory.
    required.push(requireFromApp.resolve(name));
  }
}
process.stdout.write(JSON.stringify({ functions, required }));
