/**
 * `npm run package` (scripts/package.ts) builds the zip Azure runs: the layout the Functions host
 * needs, production dependencies only, linux-x64 native binaries only — and the app loads all its
 * functions from the unpacked zip alone under devhost's worker, as it does from the sources.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readZip, unzipTo } from '../../scripts/zip';

// Compiles, installs the production dependencies from the registry and deflates ~100 MiB.
jest.setTimeout(600_000);

const root = path.resolve(__dirname, '../..');
const registerTs = path.join(root, 'test/support/register-ts.js');

interface Listed {
  functions: { name: string; trigger: string | undefined }[];
  required: string[];
}

/** Loads an app directory with devhost's worker in a fresh Node process (test/support/list-app-functions.ts). */
function listFunctions(appDir: string, extra: string[], cwd: string): Listed {
  const result = spawnSync(
    process.execPath,
    ['-r', registerTs, path.join(root, 'test/support/list-app-functions.ts'), appDir, ...extra],
    // No NODE_PATH: the app must resolve its packages from its own node_modules.
    { cwd, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } },
  );
  if (result.status !== 0)
    throw new Error(`loading ${appDir} failed (exit ${result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as Listed;
}

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  os?: string[];
  cpu?: string[];
}

describe('npm run package', () => {
  let out: string;
  let zipPath: string;
  let names: Set<string>;
  let unpacked: string;
  let stdout: string;

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-package-'));
    const result = spawnSync(
      process.execPath,
      ['-r', registerTs, path.join(root, 'scripts/package.ts'), '--out', out],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    stdout = result.stdout;
    if (result.status !== 0)
      throw new Error(`packaging failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
    zipPath = path.join(out, 'api.zip');
    names = new Set(readZip(zipPath).map((e) => e.name));
    unpacked = path.join(out, 'unpacked');
    unzipTo(zipPath, unpacked);
  });

  afterAll(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('prints the size before and after pruning, and the zip size', () => {
    expect(stdout).toMatch(/package: before [\d.]+ MiB in \d+ files/);
    expect(stdout).toMatch(/package: after {2}[\d.]+ MiB in \d+ files/);
    expect(stdout).toMatch(/api\.zip: [\d.]+ MiB/);
  });

  it('holds host.json, the app manifest and the compiled functions and orchestrations, without tooling or maps', () => {
    expect(names).toContain('host.json');
    expect(names).toContain('package.json');
    expect(names).toContain('dist/functions/app-lifecycle.js');
    expect([...names].some((n) => n.startsWith('dist/orchestrations/') && n.endsWith('.js'))).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(pkg.main).toBe('dist/{functions,orchestrations}/**/*.js');
    expect(pkg.devDependencies).toBeUndefined();
    const top = new Set([...names].map((n) => n.split('/')[0]));
    expect([...top].sort()).toEqual(['dist', 'host.json', 'node_modules', 'package.json']);
    const dist = [...names].filter((n) => n.startsWith('dist/') && !n.endsWith('/'));
    expect(dist.filter((n) => !/^dist\/(functions|orchestrations|shared)\/.*\.js$/.test(n))).toEqual([]);
    expect([...names].filter((n) => n.endsWith('.map'))).toEqual([]);
  });

  it('holds every production package in the lockfile and no development package', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, LockPackage>;
    };
    const forTarget = (p: LockPackage): boolean =>
      (!p.os || p.os.includes('linux')) && (!p.cpu || p.cpu.includes('x64'));
    const entries = Object.entries(lock.packages).filter(([key]) => key.startsWith('node_modules/'));
    const production = entries
      .filter(([, p]) => !p.dev && !p.devOptional && forTarget(p))
      .map(([key]) => key);
    const development = entries.filter(([, p]) => p.dev).map(([key]) => key);
    expect(production.length).toBeGreaterThan(50);
    expect(production.filter((key) => !names.has(`${key}/package.json`))).toEqual([]);
    expect(development.filter((key) => names.has(`${key}/`))).toEqual([]);
    for (const pkg of ['@azure/functions', 'durable-functions', 'onnxruntime-node', 'zod']) {
      expect(names).toContain(`node_modules/${pkg}/package.json`);
    }
    for (const devPkg of ['jest', 'typescript', 'azurite', 'better-sqlite3', 'eslint', '@swc/core']) {
      expect(names).not.toContain(`node_modules/${devPkg}/`);
    }
  });

  it('keeps only the linux-x64 onnxruntime-node binaries', () => {
    const natives = [...names].filter((n) => /\.(node|dll|dylib)$|\.so(\.\d+)*$/.test(n));
    expect(natives.sort()).toEqual([
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
  });

  it('loads the same functions under devhost from the unpacked zip alone as from the sources', () => {
    const fromSources = listFunctions(root, ['--main', '{functions,orchestrations}/**/*.ts'], root);
    // Run from the unpacked directory, so nothing can come from the repository's node_modules.
    const fromZip = listFunctions(unpacked, ['--require-deps'], unpacked);
    expect(fromSources.functions.length).toBeGreaterThan(20);
    expect(fromZip.functions).toEqual(fromSources.functions);
    // Every dependency loads (onnxruntime-node with its linux-x64 binding), from the app's own tree.
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: object;
    };
    expect(fromZip.required.length).toBe(Object.keys(pkg.dependencies).length);
    expect(
      fromZip.required.filter((file) => !file.startsWith(path.join(unpacked, 'node_modules') + path.sep)),
    ).toEqual([]);
  });
});
