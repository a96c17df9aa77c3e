import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

import { globFiles } from './glob';
import type { FunctionsWorker } from './worker';

export const CORE_MODULE_ID = '@azure/functions-core';

type LoadFn = (request: string, parent: unknown, isMain: boolean) => unknown;
const moduleInternals = Module as unknown as { _load: LoadFn };
let installedFor: FunctionsWorker | undefined;

/**
 * Makes `require('@azure/functions-core')` return the worker's core API in this process, as the
 * Node worker does. `Module._load` is what both `require` and `createRequire` go through.
 * Idempotent; a later call with another worker redirects the module to that worker.
 */
export function installCoreModule(worker: FunctionsWorker): void {
  if (installedFor === undefined) {
    const original = moduleInternals._load;
    moduleInternals._load = function load(request: string, parent: unknown, isMain: boolean): unknown {
      if (request === CORE_MODULE_ID && installedFor) return installedFor.coreApi;
      return original.call(this, request, parent, isMain);
    };
  }
  installedFor = worker;
}

/** The app's entry point files: package.json `main` (a file or a glob) resolved under `appDir`. */
export function entryPoints(appDir: string, main?: string): string[] {
  const pattern = main ?? readMain(appDir);
  const files = globFiles(appDir, pattern);
  if (files.length === 0) {
    throw new Error(`No entry point matches "${pattern}" under ${appDir}. Did you run the build?`);
  }
  return files;
}

function readMain(appDir: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { main?: unknown };
  if (typeof pkg.main !== 'string' || pkg.main.length === 0) {
    throw new Error(`${appDir}/package.json has no "main" naming the app's entry points.`);
  }
  return pkg.main;
}

/**
 * Installs the core module, then loads every entry point so the app's `app.*` / `df.app.*` calls
 * register with `worker`. Returns the files loaded. Modules already in the require cache do not
 * register again: load an app once per process.
 */
export function loadApp(worker: FunctionsWorker, appDir: string, main?: string): string[] {
  installCoreModule(worker);
  const files = entryPoints(appDir, main);
  for (const file of files) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- entry points are loaded as the worker does
      require(file);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`Worker failed to load entry point ${path.relative(appDir, file)}: ${message}`, { cause: err });
    }
  }
  return files;
}
