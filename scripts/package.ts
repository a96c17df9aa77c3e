/**
 * `npm run package`: the deployable zip for Azure Functions Flex Consumption (Linux x64, Node 22).
 *
 * Stages `<out>/api/` — host.json, a trimmed package.json (its `main` names the entry points),
 * dist/ compiled from functions/, orchestrations/ and shared/ only (tsconfig.package.json: no
 * devhost, CLI, bench or source maps), and node_modules from `npm ci --omit=dev` for linux-x64 —
 * prunes what Linux x64 never loads (other platforms' native binaries, type declarations, source
 * maps, markdown) and zips it to `<out>/api.zip`. azd deploys the staged directory (azure.yaml
 * `dist`, `remoteBuild: false`); the zip is the same tree for any other zip deploy.
 *
 * Usage: node dist/scripts/package.js [--out <dir>] (default: .package in the repository)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { zipDirectory } from './zip';

/** What Flex Consumption runs. */
export const TARGET = { platform: 'linux', arch: 'x64' } as const;
export const SERVICE = 'api';

const PLATFORMS = ['aix', 'android', 'darwin', 'freebsd', 'linux', 'linuxmusl', 'openbsd', 'sunos', 'win32'];
const ARCHES = [
  'arm',
  'arm64',
  'ia32',
  'loong64',
  'mips',
  'mipsel',
  'ppc',
  'ppc64',
  'riscv64',
  's390',
  's390x',
  'x64',
];
/** Files no running app reads: type declarations, source maps, docs. */
const DROPPED_FILE = /(\.d\.[cm]?ts|\.map|\.md|\.markdown)$/i;
const NATIVE_FILE = /(\.node|\.so(\.\d+)*|\.dylib|\.dll)$/;

export interface PackageResult {
  appDir: string;
  zipPath: string;
  before: TreeSize;
  after: TreeSize;
  zipBytes: number;
  nativeFiles: string[];
}

export interface TreeSize {
  files: number;
  bytes: number;
}

export function buildPackage(
  root: string,
  outDir: string,
  log: (line: string) => void = console.log,
): PackageResult {
  const appDir = path.join(outDir, SERVICE);
  const zipPath = path.join(outDir, `${SERVICE}.zip`);
  fs.rmSync(appDir, { recursive: true, force: true });
  fs.rmSync(zipPath, { force: true });
  fs.mkdirSync(appDir, { recursive: true });

  log(`package: compiling functions, orchestrations and shared into ${shown(root, appDir)}/dist`);
  // A fresh compile rather than a copy of dist/: no stale files from deleted sources, no tooling.
  run(
    process.execPath,
    [
      require.resolve('typescript/bin/tsc'),
      '-p',
      path.join(root, 'tsconfig.package.json'),
      '--outDir',
      path.join(appDir, 'dist'),
    ],
    root,
  );

  for (const file of ['host.json', 'package.json', 'package-lock.json', '.npmrc']) {
    if (fs.existsSync(path.join(root, file))) fs.copyFileSync(path.join(root, file), path.join(appDir, file));
  }
  log(`package: npm ci --omit=dev for ${TARGET.platform}-${TARGET.arch}`);
  // --os/--cpu pick optional platform packages for Azure, not for this machine. Install scripts
  // stay off as in development (package.json allowScripts): the production packages need none.
  runNpm(
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      `--os=${TARGET.platform}`,
      `--cpu=${TARGET.arch}`,
      '--no-audit',
      '--no-fund',
    ],
    appDir,
  );
  for (const file of ['package-lock.json', '.npmrc', 'node_modules/.package-lock.json']) {
    fs.rmSync(path.join(appDir, file), { force: true });
  }
  writeAppPackageJson(root, appDir);

  const before = treeSize(appDir);
  pruneNodeModules(path.join(appDir, 'node_modules'));
  const after = treeSize(appDir);
  const nativeFiles = checkNativeFiles(appDir);
  checkEntryPoints(appDir);

  const zip = zipDirectory(appDir, zipPath);
  log(
    `package: before ${formatSize(before)}: production dependencies for every platform, with declarations, maps and docs`,
  );
  log(
    `package: after  ${formatSize(after)}: ${TARGET.platform}-${TARGET.arch} native binaries only (${nativeFiles.join(', ')})`,
  );
  log(`package: ${shown(root, zipPath)}: ${mb(zip.zipBytes)} (${zip.entries} entries, deflated)`);
  return { appDir, zipPath, before, after, zipBytes: zip.zipBytes, nativeFiles };
}

/** The manifest the Functions host reads: `main` names the entry points; no scripts or dev tooling. */
function writeAppPackageJson(root: string, appDir: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const keep = ['name', 'version', 'private', 'description', 'main', 'engines', 'dependencies'];
  const app = Object.fromEntries(keep.filter((k) => k in pkg).map((k) => [k, pkg[k]]));
  fs.writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify(app, null, 2)}\n`);
}

/**
 * Removes other platforms' native binaries (onnxruntime-node's `bin/napi-v*\/<platform>/<arch>`,
 * node-gyp-build's `prebuilds/<platform>-<arch>`), `.bin` links, declarations, maps and docs.
 */
export function pruneNodeModules(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === '.bin' || isOtherTarget(full)) fs.rmSync(full, { recursive: true, force: true });
      else pruneNodeModules(full);
    } else if (DROPPED_FILE.test(entry.name) && !/^licen[cs]e/i.test(entry.name)) {
      fs.rmSync(full, { force: true });
    }
  }
}

/** A directory holding native binaries for a platform or architecture other than the target. */
function isOtherTarget(dir: string): boolean {
  const name = path.basename(dir);
  const parent = path.basename(path.dirname(dir));
  const grandparent = path.basename(path.dirname(path.dirname(dir)));
  // prebuilds/<platform>-<arch>
  if (parent === 'prebuilds') return name !== `${TARGET.platform}-${TARGET.arch}`;
  // bin/napi-v*/<platform>
  if (/^napi-v\d+$/.test(parent)) return PLATFORMS.includes(name) && name !== TARGET.platform;
  // bin/napi-v*/<target platform>/<arch>
  if (/^napi-v\d+$/.test(grandparent) && parent === TARGET.platform)
    return ARCHES.includes(name) && name !== TARGET.arch;
  return false;
}

/** Every native binary left must be for the target, or the app would load one Azure cannot run. */
function checkNativeFiles(appDir: string): string[] {
  const natives = walk(appDir).filter((f) => NATIVE_FILE.test(f));
  const foreign = natives.filter((f) => {
    const parts = f.split(/[/-]/);
    return parts.some(
      (p) => (PLATFORMS.includes(p) && p !== TARGET.platform) || (ARCHES.includes(p) && p !== TARGET.arch),
    );
  });
  if (foreign.length > 0) {
    throw new Error(
      `Native binaries for another platform are still in the package: ${foreign.join(', ')}. Teach pruneNodeModules their layout.`,
    );
  }
  return natives;
}

function checkEntryPoints(appDir: string): void {
  const compiled = walk(path.join(appDir, 'dist')).filter((f) => f.endsWith('.js'));
  for (const dir of ['functions/', 'orchestrations/']) {
    if (!compiled.some((f) => f.startsWith(dir)))
      throw new Error(`The package has no compiled ${dir} under dist/.`);
  }
}

function walk(dir: string, prefix = ''): string[] {
  return fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) return walk(dir, rel);
    return e.isFile() ? [rel] : [];
  });
}

function treeSize(dir: string): TreeSize {
  const files = walk(dir);
  return {
    files: files.length,
    bytes: files.reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0),
  };
}

/** Relative to the repository when inside it. */
function shown(root: string, file: string): string {
  const rel = path.relative(root, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatSize(size: TreeSize): string {
  return `${mb(size.bytes)} in ${size.files} files`;
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', shell: false });
  if (result.error)
    throw new Error(`Could not run ${command}: ${result.error.message}`, { cause: result.error });
  if (result.status !== 0)
    throw new Error(
      `${path.basename(command)} ${args.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal}).`,
    );
}

/** npm as the caller ran it (`npm run package` sets npm_execpath), else the one on PATH. */
function runNpm(args: string[], cwd: string): void {
  const npmCli = process.env.npm_execpath;
  if (npmCli && /npm-cli\.js$/.test(npmCli)) run(process.execPath, [npmCli, ...args], cwd);
  else if (process.platform === 'win32') run('cmd.exe', ['/d', '/s', '/c', 'npm', ...args], cwd);
  else run('npm', args, cwd);
}

/** The repository: the nearest directory above this file with host.json (works from dist/ and from source). */
export function repoRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'host.json'))) return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`No host.json above ${from}: run the packaging from the repository.`);
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const root = repoRoot();
  const outDir = path.resolve((outAt >= 0 ? args[outAt + 1] : undefined) ?? path.join(root, '.package'));
  try {
    buildPackage(root, outDir);
  } catch (err) {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
