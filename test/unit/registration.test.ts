/** @jest-environment ./test/support/host-typed-arrays-environment.js */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';

import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import { lakePaths } from '../../shared/domain/lake-paths';
import { fitTransforms } from '../../shared/domain/transforms';
import type { Clock } from '../../shared/ports/clock';
import { validationEvidenceSchema } from '../../shared/schemas/evidence';
import { modelInputSchema } from '../../shared/schemas/model';
import { referenceProfileSchema } from '../../shared/schemas/monitoring';
import { consumeIncomingPackage, registerIncomingPackage } from '../../shared/usecases/incoming-package';
import { registerPackage, type RegisterPackageDeps, stageUpload } from '../../shared/usecases/register-package';
import { RegistryUseCases } from '../../shared/usecases/registry';
import { TOO_MANY_SEGMENT_VALUES, validateVersion } from '../../shared/usecases/validate-version';
import { linearRegressor, logRegressor, torchBinaryClassifier } from '../fixtures/onnx-models';
import { anActor, anApprover, sha, theSystem } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { MemoryLake } from '../support/memory-lake';
import { aRegionalModel, FEATURES, regionalPackage, regionalRows, toCsv, TRUE_WEIGHTS } from '../support/model-kit';

const carlos = anActor({ id: 'carlos', roles: ['MLOps.Contributor'] });
const AT = '2026-06-01T00:00:00.000Z';
const clock: Clock = { now: () => new Date(AT) };

const runtimes: OnnxModelRuntime[] = [];
afterAll(() => Promise.all(runtimes.map((r) => r.close())));

async function setup(maxArtifactBytes = 1_000_000, options: { lake?: MemoryLake; clock?: Clock } = {}) {
  const store = new InMemoryModelRegistry();
  const lake = options.lake ?? new MemoryLake();
  const registry = new RegistryUseCases({ registry: store, clock: options.clock ?? clock });
  await registry.createModel(aRegionalModel('regional', { validation: { metric: 'rmse', minSegmentRows: 20, bootstrapResamples: 50 } }), carlos);
  const runtime = new OnnxModelRuntime();
  runtimes.push(runtime);
  const deps: RegisterPackageDeps = { registry, lake, maxArtifactBytes, runtime };
  return { store, lake, registry, deps, runtime };
}

const listAll = async (lake: MemoryLake) => [...lake.objects.keys()].sort();

/**
 * The quarantine folder of the manifest now at `models/regional/incoming/{name}/manifest.json`:
 * `quarantine/regional/packages/{name}/{its time, ':' as '-'}-{12 hex}/` (read before it moves).
 */
async function attemptFolderOf(lake: MemoryLake, name: string): Promise<RegExp> {
  const info = await lake.stat(lakePaths.incomingPackageFile('regional', name, 'manifest.json'));
  if (!info) throw new Error(`no manifest in ${name}`);
  const at = info.lastModified.toISOString().replace(/:/g, '-').replace(/\./g, '\\.');
  return new RegExp(`^quarantine/regional/packages/${name}/${at}-[0-9a-f]{12}/`);
}

/** The quarantine attempts of a package name: folder -> its files (relative), sorted. */
function attempts(lake: MemoryLake, name: string): Map<string, string[]> {
  const prefix = `quarantine/regional/packages/${name}/`;
  const found = new Map<string, string[]>();
  for (const path of [...lake.objects.keys()].sort()) {
    if (!path.startsWith(prefix)) continue;
    const [attempt, ...rest] = path.slice(prefix.length).split('/');
    found.set(attempt!, [...(found.get(attempt!) ?? []), rest.join('/')]);
  }
  return found;
}

/** A lake that runs a test's hook before deleting a path (to interleave two invocations deterministically). */
class GatedLake extends MemoryLake {
  beforeDelete?: (path: string) => Promise<void>;
  override async delete(path: string): Promise<void> {
    const hook = this.beforeDelete;
    if (hook) await hook(path);
    return super.delete(path);
  }
}

/** A body that sends some bytes and breaks off, like a dropped connection. */
function breakingBody(): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) this.destroy(new Error('socket hang up'));
      else {
        sent = true;
        this.push(Buffer.alloc(1000, 1));
      }
    },
  });
}

describe('registration of a version package', () => {
  it('when the upload is larger than the limit or breaks off, then PAYLOAD_TOO_LARGE or VALIDATION_ERROR and nothing is stored', async () => {
    const { deps, lake } = await setup(2048);
    await expect(stageUpload(deps, 'regional', Readable.from([Buffer.alloc(1500), Buffer.alloc(1500)]))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(stageUpload(deps, 'regional', breakingBody())).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/broke off: socket hang up/) });
    await expect(stageUpload(deps, 'regional', Readable.from([]))).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: 'the artifact is empty' });
    expect(await listAll(lake)).toEqual([]);
  });

  it('when a package registers, then the version folder holds its files and the staged upload is gone', async () => {
    const { deps, lake } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const staged = await stageUpload(deps, 'regional', Readable.from([pkg.onnx]));
    const { version, created } = await registerPackage(deps, { model: 'regional', manifest: pkg.manifest, artifact: staged, actor: carlos });
    expect(created).toBe(true);
    expect(version).toMatchObject({ version: 1, state: 'registered', registrant: 'carlos', artifact: { path: 'models/regional/1/model.onnx', sha256: staged.sha256, size: pkg.onnx.length } });
    expect(await listAll(lake)).toEqual([
      'models/regional/1/golden-records.json',
      'models/regional/1/manifest.json',
      'models/regional/1/model.onnx',
      'models/regional/1/transforms.json',
    ]);
    expect(lake.body('models/regional/1/model.onnx').equals(pkg.onnx)).toBe(true);
  });

  it('when the manifest does not fit the model, then VALIDATION_ERROR names it and the upload is removed', async () => {
    const { deps, lake } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const staged = await stageUpload(deps, 'regional', Readable.from([pkg.onnx]));
    const wrong = { ...pkg.manifest, model: { name: 'other' } };
    await expect(registerPackage(deps, { model: 'regional', manifest: wrong, artifact: staged, actor: carlos })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: "the manifest is for model 'other', not 'regional'",
    });
    expect(await listAll(lake)).toEqual([]);
  });

  it('when the manifest has a field it does not know (a typo), at the top or in its lineage, then VALIDATION_ERROR names it and nothing is registered', async () => {
    const { deps, lake, store } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const typos: [Record<string, unknown>, string][] = [
      [{ ...pkg.manifest, lineag: { source: 'azureml' } }, 'lineag'],
      [{ ...pkg.manifest, lineage: { source: 'azureml', parentVerison: 1 } }, 'parentVerison'],
      [{ ...pkg.manifest, datasets: [{ role: 'validation', uri: 'datasets/v.csv', row: 10 }] }, 'row'],
    ];
    for (const [manifest, field] of typos) {
      const staged = await stageUpload(deps, 'regional', Readable.from([pkg.onnx]));
      await expect(registerPackage(deps, { model: 'regional', manifest, artifact: staged, actor: carlos })).rejects.toMatchObject({
        code: 'VALIDATION_ERROR',
        message: expect.stringContaining(field),
      });
    }
    expect(await listAll(lake)).toEqual([]);
    expect(await store.listVersions('regional')).toEqual([]);
    // A version manifest as `mlops package` writes it (with its own `version`) registers as it is.
    const staged = await stageUpload(deps, 'regional', Readable.from([pkg.onnx]));
    await expect(registerPackage(deps, { model: 'regional', manifest: { ...pkg.manifest, version: 7 }, artifact: staged, actor: carlos })).resolves.toMatchObject({
      version: { version: 1 },
    });
  });

  it('when the manifest carries the transform spec, then it must be the one the transforms were fitted from', async () => {
    const { deps } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const spec = { specVersion: 1, steps: [{ type: 'one_hot', column: 'region', unseen: 'ignore' }], output: ['x1', 'x2', 'region_north', 'region_south'] };
    const register = async (transformSpec: unknown, key: string) =>
      registerPackage(deps, {
        model: 'regional',
        manifest: { ...pkg.manifest, transformSpec },
        artifact: await stageUpload(deps, 'regional', Readable.from([pkg.onnx])),
        actor: carlos,
        idempotencyKey: key,
      });
    const other = { ...spec, steps: [{ type: 'one_hot', column: 'region', unseen: 'error' }] };
    await expect(register(other, 'a')).rejects.toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/^transformSpec has hash [a-f0-9]{64}, the fitted transforms were fitted from/) });
    await expect(register(spec, 'b')).resolves.toMatchObject({ created: true });
  });

  it('when two first calls race with the same Idempotency-Key and different packages, then one registers, the other is IDEMPOTENCY_KEY_REUSED, and the version\'s files are the winner\'s', async () => {
    const { deps, lake, store } = await setup();
    const packages = [regionalPackage(TRUE_WEIGHTS, 0), regionalPackage(TRUE_WEIGHTS, 1)];
    const results = await Promise.allSettled(
      packages.map(async (pkg) =>
        registerPackage(deps, { model: 'regional', manifest: pkg.manifest, artifact: await stageUpload(deps, 'regional', Readable.from([pkg.onnx])), actor: carlos, idempotencyKey: 'run-42' }),
      ),
    );
    const won = results.findIndex((r) => r.status === 'fulfilled');
    expect(results[won]).toMatchObject({ value: { created: true, version: { version: 1 } } });
    expect(results[1 - won]).toMatchObject({ status: 'rejected', reason: { code: 'IDEMPOTENCY_KEY_REUSED', details: { version: 1 } } });
    expect((await store.listVersions('regional')).map((v) => v.version)).toEqual([1]);
    expect(lake.body('models/regional/1/model.onnx').equals(packages[won]!.onnx)).toBe(true);
    expect((await listAll(lake)).filter((p) => p.includes('/uploads/'))).toEqual([]);
  });

  it('when a package manifest starts with a byte-order mark (as Windows PowerShell writes UTF-8), then it registers', async () => {
    const { deps, lake } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const manifest = Buffer.from(`\uFEFF${JSON.stringify(pkg.manifest)}`, 'utf8');
    await lake.write(lakePaths.incomingPackageFile('regional', 'bom', 'model.onnx'), pkg.onnx);
    await lake.write(lakePaths.incomingPackageFile('regional', 'bom', 'manifest.json'), manifest);
    await expect(registerIncomingPackage(deps, { model: 'regional', name: 'bom', manifest })).resolves.toMatchObject({ outcome: 'registered', version: { version: 1 } });
  });

  it('when a package manifest names a field twice in one object, then it is quarantined naming the field, not registered with the last value', async () => {
    const { deps, lake, store } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const text = JSON.stringify({ ...pkg.manifest, metrics: { rmse: 2 } }).replace('"metrics":{"rmse":2}', '"metrics":{"rmse":2,"rmse":0.1}');
    await lake.write(lakePaths.incomingPackageFile('regional', 'twice', 'model.onnx'), pkg.onnx);
    await lake.write(lakePaths.incomingPackageFile('regional', 'twice', 'manifest.json'), Buffer.from(text));
    const result = await registerIncomingPackage(deps, { model: 'regional', name: 'twice', manifest: Buffer.from(text) });
    expect(result).toMatchObject({ outcome: 'quarantined', code: 'VALIDATION_ERROR', reason: "manifest.json names 'rmse' twice in one object: each name once" });
    expect(await store.listVersions('regional')).toEqual([]);
  });

  it('when a package in the inbox names an artifact outside its folder, then it is quarantined with the reason', async () => {
    const { deps, lake } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const manifest = { ...pkg.manifest, artifact: { path: '../../1/model.onnx' } };
    await lake.write(lakePaths.incomingPackageFile('regional', 'run-1', 'manifest.json'), Buffer.from(JSON.stringify(manifest)));
    const folder = await attemptFolderOf(lake, 'run-1');
    const result = await registerIncomingPackage(deps, { model: 'regional', name: 'run-1', manifest: Buffer.from(JSON.stringify(manifest)) });
    expect(result).toMatchObject({ outcome: 'quarantined', code: 'VALIDATION_ERROR', reason: expect.stringMatching(/"\."|\.\./) });
    const all = await listAll(lake);
    expect(all).toHaveLength(2);
    expect(all.map((p) => p.replace(folder, ''))).toEqual(['manifest.json', 'reason.json']);
  });

  it('when a package in the inbox names its artifact with "." segments that stay inside its folder, as `mlops check` accepts, then it registers', async () => {
    const { deps, lake } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    await lake.write(lakePaths.incomingPackageFile('regional', 'run-3', 'onnx/model.onnx'), pkg.onnx);
    // Two manifests (they differ in the path), so two versions.
    for (const [name, path, version] of [['run-3', './onnx/model.onnx', 1], ['run-4', 'onnx/../onnx/./model.onnx', 2]] as const) {
      if (name !== 'run-3') await lake.copy(lakePaths.incomingPackageFile('regional', 'run-3', 'onnx/model.onnx'), lakePaths.incomingPackageFile('regional', name, 'onnx/model.onnx'));
      const manifest = Buffer.from(JSON.stringify({ ...pkg.manifest, artifact: { path } }));
      await lake.write(lakePaths.incomingPackageFile('regional', name, 'manifest.json'), manifest);
      const result = await registerIncomingPackage(deps, { model: 'regional', name, manifest });
      expect(result).toMatchObject({ outcome: 'registered', created: true, version: { version, artifact: { size: pkg.onnx.length } } });
    }
  });

  it('when a new package is dropped under the same name while one registers, then consuming the registered one leaves the new one in the inbox; otherwise the inbox folder is emptied', async () => {
    const { deps, lake } = await setup();
    const file = (name: string) => lakePaths.incomingPackageFile('regional', 'latest', name);
    const drop = async (pkg: ReturnType<typeof regionalPackage>) => {
      const manifest = Buffer.from(JSON.stringify(pkg.manifest));
      await lake.write(file('model.onnx'), pkg.onnx);
      await lake.write(file('manifest.json'), manifest);
      return manifest;
    };
    const first = regionalPackage(TRUE_WEIGHTS, 0);
    const firstManifest = await drop(first);
    await expect(registerIncomingPackage(deps, { model: 'regional', name: 'latest', manifest: firstManifest })).resolves.toMatchObject({ outcome: 'registered', version: { version: 1 } });
    // The pipeline drops its next package under the same name before the first is consumed.
    const second = regionalPackage(TRUE_WEIGHTS, 1);
    const secondManifest = await drop(second);
    const consumed = await consumeIncomingPackage(deps, 'regional', 'latest', firstManifest);
    expect((await listAll(lake)).filter((p) => p.includes('/incoming/'))).toEqual([file('manifest.json'), file('model.onnx')]);
    expect(lake.body(file('model.onnx')).equals(second.onnx)).toBe(true);
    expect(lake.body(file('manifest.json')).equals(secondManifest)).toBe(true);
    expect(consumed).toBe(false);
    // Its own event registers it and empties the folder.
    await expect(registerIncomingPackage(deps, { model: 'regional', name: 'latest', manifest: secondManifest })).resolves.toMatchObject({ outcome: 'registered', version: { version: 2 } });
    await expect(consumeIncomingPackage(deps, 'regional', 'latest', secondManifest)).resolves.toBe(true);
    expect((await listAll(lake)).filter((p) => p.includes('/incoming/'))).toEqual([]);
  });

  it.each([
    ['not an ONNX model', () => Buffer.from('this is not protobuf at all, just text'), 'UNSUPPORTED_MODEL'],
    ['a graph that does not match its signature', () => linearRegressor([1, 2, 3], 0).bytes, 'SIGNATURE_MISMATCH'],
  ])('when the artifact in the inbox is %s, then the package is quarantined with the reason, not retried', async (_what, artifact, code) => {
    const { deps, lake } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    await lake.write(lakePaths.incomingPackageFile('regional', 'run-2', 'model.onnx'), artifact());
    await lake.write(lakePaths.incomingPackageFile('regional', 'run-2', 'manifest.json'), Buffer.from(JSON.stringify(pkg.manifest)));
    const folder = await attemptFolderOf(lake, 'run-2');
    const result = await registerIncomingPackage(deps, { model: 'regional', name: 'run-2', manifest: Buffer.from(JSON.stringify(pkg.manifest)) });
    expect(result).toMatchObject({ outcome: 'quarantined', code });
    const all = await listAll(lake);
    expect(all).toHaveLength(3);
    expect(all.map((p) => p.replace(folder, ''))).toEqual(['manifest.json', 'model.onnx', 'reason.json']);
    expect(JSON.parse(lake.body(all[2]!).toString())).toMatchObject({ code, files: ['manifest.json', 'model.onnx'] });
  });
});

describe('packages in the inbox: quarantine and repeated events', () => {
  const file = (name: string, path: string) => lakePaths.incomingPackageFile('regional', name, path);
  const inbox = async (lake: MemoryLake) => (await listAll(lake)).filter((p) => p.includes('/incoming/'));
  const quarantine = async (lake: MemoryLake) => (await listAll(lake)).filter((p) => p.startsWith('quarantine/'));
  /** What the blob trigger does with one manifest event. */
  async function handle(deps: RegisterPackageDeps, name: string, manifest: Buffer) {
    const result = await registerIncomingPackage(deps, { model: 'regional', name, manifest });
    const consumed = result.outcome === 'registered' ? await consumeIncomingPackage(deps, 'regional', name, manifest) : undefined;
    return { result, consumed };
  }

  it('when two broken packages are dropped under the same name one after the other, then each keeps its own quarantine folder with its own files and reason', async () => {
    const { deps, lake } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    await lake.write(file('nightly', 'model.onnx'), Buffer.from('not an ONNX model'));
    await lake.write(file('nightly', 'notes.txt'), Buffer.from('first run'));
    const first = Buffer.from(JSON.stringify(pkg.manifest));
    await lake.write(file('nightly', 'manifest.json'), first);
    const firstFolder = await attemptFolderOf(lake, 'nightly');
    const one = await registerIncomingPackage(deps, { model: 'regional', name: 'nightly', manifest: first });
    expect(one).toMatchObject({ outcome: 'quarantined', code: 'UNSUPPORTED_MODEL', quarantine: expect.stringMatching(firstFolder) });

    await lake.write(file('nightly', 'readme.md'), Buffer.from('second run'));
    const second = Buffer.from('{"signature": "not one"');
    await lake.write(file('nightly', 'manifest.json'), second);
    const secondFolder = await attemptFolderOf(lake, 'nightly');
    const two = await registerIncomingPackage(deps, { model: 'regional', name: 'nightly', manifest: second });
    expect(two).toMatchObject({ outcome: 'quarantined', code: 'VALIDATION_ERROR', quarantine: expect.stringMatching(secondFolder) });

    expect(await inbox(lake)).toEqual([]);
    expect(attempts(lake, 'nightly').size).toBe(2);
    const folderOf = (result: typeof one) => (result.outcome === 'quarantined' ? result.quarantine.replace(/reason\.json$/, '') : '');
    const [firstAttempt, secondAttempt] = [folderOf(one), folderOf(two)];
    expect(firstAttempt).not.toBe(secondAttempt);
    expect((await quarantine(lake)).filter((p) => p.startsWith(firstAttempt)).map((p) => p.slice(firstAttempt.length))).toEqual(['manifest.json', 'model.onnx', 'notes.txt', 'reason.json']);
    expect((await quarantine(lake)).filter((p) => p.startsWith(secondAttempt)).map((p) => p.slice(secondAttempt.length))).toEqual(['manifest.json', 'readme.md', 'reason.json']);
    expect(lake.body(`${firstAttempt}manifest.json`).equals(first)).toBe(true);
    expect(lake.body(`${secondAttempt}manifest.json`).equals(second)).toBe(true);
    expect(JSON.parse(lake.body(`${firstAttempt}reason.json`).toString())).toMatchObject({ code: 'UNSUPPORTED_MODEL', files: ['manifest.json', 'model.onnx', 'notes.txt'] });
    expect(JSON.parse(lake.body(`${secondAttempt}reason.json`).toString())).toMatchObject({ code: 'VALIDATION_ERROR', files: ['manifest.json', 'readme.md'] });
  });

  it('when a broken manifest is handled after a new package was dropped under the same name, then the folder is left alone and the new package registers from its own event', async () => {
    const { deps, lake } = await setup();
    const broken = Buffer.from('{"signature": "not one"');
    await lake.write(file('latest', 'manifest.json'), broken);
    // Before the broken manifest's event is handled, the pipeline drops a sound package there.
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const sound = Buffer.from(JSON.stringify(pkg.manifest));
    await lake.write(file('latest', 'model.onnx'), pkg.onnx);
    await lake.write(file('latest', 'manifest.json'), sound);

    await expect(registerIncomingPackage(deps, { model: 'regional', name: 'latest', manifest: broken })).resolves.toMatchObject({
      outcome: 'superseded',
      reason: expect.stringMatching(/now holds another manifest/),
    });
    expect(await quarantine(lake)).toEqual([]);
    expect(await inbox(lake)).toEqual([file('latest', 'manifest.json'), file('latest', 'model.onnx')]);
    await expect(handle(deps, 'latest', sound)).resolves.toMatchObject({ result: { outcome: 'registered', created: true, version: { version: 1 } }, consumed: true });
    expect(await inbox(lake)).toEqual([]);
  });

  it('when a second event for a manifest comes after the package registered and left the inbox, then it answers the version as a replay and quarantines nothing', async () => {
    const { deps, lake, store } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const manifest = Buffer.from(JSON.stringify(pkg.manifest));
    await lake.write(file('run-7', 'model.onnx'), pkg.onnx);
    await lake.write(file('run-7', 'manifest.json'), manifest);
    await expect(handle(deps, 'run-7', manifest)).resolves.toMatchObject({ result: { outcome: 'registered', created: true }, consumed: true });
    await expect(handle(deps, 'run-7', manifest)).resolves.toMatchObject({ result: { outcome: 'registered', created: false, version: { version: 1 } }, consumed: false });
    expect(await quarantine(lake)).toEqual([]);
    expect((await store.listVersions('regional')).map((v) => v.version)).toEqual([1]);
  });

  it.each([
    ['pins no artifact hash (known by its package and time)', false],
    ['pins its artifact hash (known by content)', true],
  ])('when two events for one manifest that %s are handled at once and one finds the artifact already removed, then it answers the version as a replay, not a quarantine', async (_what, pinned) => {
    const lake = new GatedLake();
    // Unpinned, the version must be registered after the manifest was written: a clock that runs.
    const { deps, store } = await setup(1_000_000, { lake, ...(pinned ? {} : { clock: { now: () => new Date() } }) });
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const body = pinned ? { ...pkg.manifest, artifact: { path: 'model.onnx', sha256: createHash('sha256').update(pkg.onnx).digest('hex') } } : pkg.manifest;
    const manifest = Buffer.from(JSON.stringify(body));
    await lake.write(file('run-8', 'model.onnx'), pkg.onnx);
    await lake.write(file('run-8', 'manifest.json'), manifest);
    // The first invocation has removed the artifact and is about to remove the manifest when the
    // second invocation runs.
    let second: Awaited<ReturnType<typeof handle>> | undefined;
    lake.beforeDelete = async (path) => {
      if (path !== file('run-8', 'manifest.json')) return;
      lake.beforeDelete = undefined;
      second = await handle(deps, 'run-8', manifest);
    };
    const first = await handle(deps, 'run-8', manifest);
    expect(first).toMatchObject({ result: { outcome: 'registered', created: true, version: { version: 1 } }, consumed: true });
    expect(second).toMatchObject({ result: { outcome: 'registered', created: false, version: { version: 1 } } });
    expect(await quarantine(lake)).toEqual([]);
    expect(await inbox(lake)).toEqual([]);
    expect((await store.listVersions('regional')).map((v) => v.version)).toEqual([1]);
  });

  it('when the manifest is dropped before its artifact, then it is quarantined saying to upload the manifest last; the artifact that lands later waits in the inbox and registers when the manifest is dropped again', async () => {
    const { deps, lake, store } = await setup();
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const manifest = Buffer.from(JSON.stringify(pkg.manifest));
    await lake.write(file('early', 'manifest.json'), manifest);
    const folder = await attemptFolderOf(lake, 'early');
    const result = await registerIncomingPackage(deps, { model: 'regional', name: 'early', manifest });
    expect(result).toMatchObject({ outcome: 'quarantined', code: 'NOT_FOUND', reason: expect.stringMatching(/manifest\.json last/) });
    const reasonPath = (await quarantine(lake)).find((p) => p.endsWith('/reason.json'))!;
    expect(reasonPath).toMatch(folder);
    expect(JSON.parse(lake.body(reasonPath).toString())).toMatchObject({ code: 'NOT_FOUND', hint: expect.stringMatching(/upload manifest\.json again \(last\)/), files: ['manifest.json'] });

    // The artifact lands after the quarantine: nothing takes it away.
    await lake.write(file('early', 'model.onnx'), pkg.onnx);
    expect(await inbox(lake)).toEqual([file('early', 'model.onnx')]);
    // The manifest dropped again (last) registers the package and empties the inbox.
    await lake.write(file('early', 'manifest.json'), manifest);
    await expect(handle(deps, 'early', manifest)).resolves.toMatchObject({ result: { outcome: 'registered', created: true, version: { version: 1 } }, consumed: true });
    expect(await inbox(lake)).toEqual([]);
    expect((await store.listVersions('regional')).map((v) => v.version)).toEqual([1]);
    expect(attempts(lake, 'early').size).toBe(1);
  });

  it('when a manifest that pins no hash is dropped again, before a new artifact, after the same manifest registered, then it is quarantined, not taken for the earlier registration', async () => {
    const { deps, lake } = await setup(1_000_000, { clock: { now: () => new Date() } });
    const pkg = regionalPackage(TRUE_WEIGHTS, 0);
    const manifest = Buffer.from(JSON.stringify(pkg.manifest));
    await lake.write(file('daily', 'model.onnx'), pkg.onnx);
    await lake.write(file('daily', 'manifest.json'), manifest);
    await expect(handle(deps, 'daily', manifest)).resolves.toMatchObject({ result: { outcome: 'registered', created: true }, consumed: true });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await lake.write(file('daily', 'manifest.json'), manifest);
    await expect(handle(deps, 'daily', manifest)).resolves.toMatchObject({ result: { outcome: 'quarantined', code: 'NOT_FOUND' } });
    expect(attempts(lake, 'daily').size).toBe(1);
  });
});

describe('validation of a version', () => {
  async function registered(manifestExtra: Record<string, unknown> = {}) {
    const env = await setup();
    const csv = toCsv(regionalRows(200, 3));
    await env.lake.write('datasets/regional/validation.csv', Buffer.from(csv));
    const pkg = regionalPackage(TRUE_WEIGHTS, 0, { datasets: [{ role: 'validation', uri: 'datasets/regional/validation.csv' }] });
    const staged = await stageUpload(env.deps, 'regional', Readable.from([pkg.onnx]));
    const { version } = await registerPackage(env.deps, { model: 'regional', manifest: { ...pkg.manifest, ...manifestExtra }, artifact: staged, actor: carlos });
    // Validation runs on another worker than registration: its own runtime, nothing cached.
    const runtime = new OnnxModelRuntime();
    runtimes.push(runtime);
    const deps = { registry: env.store, lake: env.lake, files: new LakeTabularFiles(env.lake), runtime };
    return { ...env, version, deps };
  }

  it('when the version and its data are sound, then the evidence passes and is stored under its own hash', async () => {
    const { deps, lake, runtime } = await registered();
    try {
      const outcome = await validateVersion(deps, { model: 'regional', version: 1, validatedAt: '2026-06-01T00:00:00.000Z' });
      expect(outcome).toMatchObject({ decision: 'pass', reasons: [] });
      expect(outcome.evidencePath).toBe(`evidence/regional/1/${outcome.evidenceHash}.json`);
      const again = await validateVersion(deps, { model: 'regional', version: 1, validatedAt: '2026-06-01T00:00:00.000Z' });
      expect(again.evidenceHash).toBe(outcome.evidenceHash);
      expect(JSON.parse(lake.body(outcome.evidencePath).toString())).toMatchObject({ decision: 'pass', dataset: { rowsEvaluated: 200 } });
      const reference = referenceProfileSchema.parse(JSON.parse(lake.body('profiles/regional/v1/reference.json').toString()));
      expect(reference).toMatchObject({ model: 'regional', version: 1, source: 'datasets/regional/validation.csv', overall: { rowCount: 200 } });
      expect(Object.keys(reference.overall.columns).sort()).toEqual(['prediction', 'region', 'x1', 'x2']);
      expect(Object.keys(reference.segments)).toEqual(['region=north', 'region=south']);
      expect(reference.segments['region=north']!.rowCount).toBe(100);
    } finally {
      await runtime.close();
    }
  });

  it('when the validation dataset holds more rows than VALIDATION_MAX_ROWS, then validation fails saying so, before holding them; gzip CSV is stopped while read', async () => {
    const { deps, lake, runtime } = await registered();
    try {
      const tooMany = /validation dataset datasets\/regional\/validation\.csv has 200 rows, more than 150 \(VALIDATION_MAX_ROWS\).*validate on a sample/;
      const outcome = await validateVersion({ ...deps, maxRows: 150 }, { model: 'regional', version: 1, validatedAt: AT });
      expect(outcome).toMatchObject({ decision: 'fail', reasons: [expect.stringMatching(tooMany)] });
      // A gzip CSV's row count is not known until it is read: reading stops past the bound.
      await lake.write('datasets/regional/validation.csv.gz', gzipSync(lake.body('datasets/regional/validation.csv')));
      const zipped = await validateVersion({ ...deps, maxRows: 150 }, { model: 'regional', version: 1, validatedAt: AT, dataset: 'datasets/regional/validation.csv.gz' });
      expect(zipped).toMatchObject({ decision: 'fail', reasons: [expect.stringMatching(/validation\.csv\.gz has more than 150 rows \(VALIDATION_MAX_ROWS\)/)] });
      // At the bound, it validates.
      await expect(validateVersion({ ...deps, maxRows: 200 }, { model: 'regional', version: 1, validatedAt: AT })).resolves.toMatchObject({ decision: 'pass' });
    } finally {
      await runtime.close();
    }
  });

  it('when a segment key of the validation data has more values than SEGMENT_MAX_VALUES (an id used as a segment key), then validation fails naming the key and the count, with bounded evidence and reference', async () => {
    const { deps, lake, runtime } = await registered();
    try {
      // 200 rows of north and south, then 102 rows whose region is a customer's own value.
      const customers = regionalRows(102, 5, { regions: Array.from({ length: 102 }, (_, i) => `customer-${i}`), idPrefix: 'c' });
      await lake.write('datasets/regional/validation.csv', Buffer.from(toCsv([...regionalRows(200, 3), ...customers])));
      const tooMany = /the segment key 'region' has 104 distinct values in datasets\/regional\/validation\.csv, more than the 100 a segment key may have \(SEGMENT_MAX_VALUES\).*'region=__other__'.*an id or free text is no segment/;
      // The default cap (100) applies without the setting.
      const outcome = await validateVersion(deps, { model: 'regional', version: 1, validatedAt: AT });
      expect(outcome).toMatchObject({ decision: 'fail', reasons: [expect.stringMatching(tooMany)] });
      const evidence = validationEvidenceSchema.parse(JSON.parse(lake.body(outcome.evidencePath).toString()));
      expect(evidence.checks).toContainEqual(expect.objectContaining({ check: 'dataset', passed: false, gating: true, code: TOO_MANY_SEGMENT_VALUES }));
      let reference = referenceProfileSchema.parse(JSON.parse(lake.body('profiles/regional/v1/reference.json').toString()));
      expect(Object.keys(reference.segments)).toHaveLength(101);
      expect(reference.segments['region=__other__']!.rowCount).toBe(4);
      expect(reference.cappedSegments).toEqual({ region: { limit: 100, distinctValuesAtLeast: 104, foldedRows: 4 } });
      // The evidence still measures every row of each split, the rarest values as one segment.
      const tight = await validateVersion({ ...deps, segmentMaxValues: 10 }, { model: 'regional', version: 1, validatedAt: AT });
      expect(tight.reasons[0]).toMatch(/the segment key 'region' has 104 distinct values .* more than the 10 /);
      for (const split of validationEvidenceSchema.parse(JSON.parse(lake.body(tight.evidencePath).toString())).splits) {
        expect(split.challenger.segments.length).toBeLessThanOrEqual(11);
        expect(split.challenger.segments.map((s) => s.segment)).toEqual(expect.arrayContaining(['region=north', 'region=south', 'region=__other__']));
        expect(split.challenger.cappedSegments?.region).toMatchObject({ limit: 10 });
        expect(split.challenger.segments.reduce((sum, s) => sum + s.rows, 0)).toBe(split.rows);
      }
      reference = referenceProfileSchema.parse(JSON.parse(lake.body('profiles/regional/v1/reference.json').toString()));
      expect(Object.keys(reference.segments)).toHaveLength(11);
      // With a cap above the values, the check does not fail (the gates decide as before).
      const roomy = await validateVersion({ ...deps, segmentMaxValues: 200 }, { model: 'regional', version: 1, validatedAt: AT });
      const roomyEvidence = validationEvidenceSchema.parse(JSON.parse(lake.body(roomy.evidencePath).toString()));
      expect(roomyEvidence.checks.filter((c) => c.code === TOO_MANY_SEGMENT_VALUES)).toEqual([]);
      expect(roomyEvidence.splits[0]!.challenger.cappedSegments).toBeUndefined();
    } finally {
      await runtime.close();
    }
  });

  it('when the artifact is gone or tampered with, then validation fails with the artifact check as reason', async () => {
    const { deps, lake, runtime } = await registered();
    try {
      await lake.write('models/regional/1/model.onnx', Buffer.from('not onnx'));
      const outcome = await validateVersion(deps, { model: 'regional', version: 1, validatedAt: '2026-06-01T00:00:00.000Z' });
      expect(outcome.decision).toBe('fail');
      expect(outcome.reasons).toEqual([expect.stringMatching(/sha256/)]);
      await lake.delete('models/regional/1/model.onnx');
      const missing = await validateVersion(deps, { model: 'regional', version: 1, validatedAt: '2026-06-01T00:00:01.000Z' });
      expect(missing.reasons).toEqual(["model 'regional' version 1: its ONNX artifact is missing from the data lake; restore it or register the version again"]);
    } finally {
      await runtime.close();
    }
  });

  it('when golden records do not reproduce, then validation fails on parity', async () => {
    const { deps, runtime } = await registered({ goldenRecords: [{ input: { x1: 1, x2: 1, region: 'north' }, expectedFeatures: [1, 1, 1, 0], expectedOutput: { prediction: 99 } }] });
    try {
      const outcome = await validateVersion(deps, { model: 'regional', version: 1, validatedAt: '2026-06-01T00:00:00.000Z' });
      expect(outcome).toMatchObject({ decision: 'fail', reasons: [expect.stringMatching(/parity failed/)] });
    } finally {
      await runtime.close();
    }
  });

  /** A one-feature model `logs` (y from x), its validation data at x = 1..20 with rows 5, 10, ... at x = -1, and versions registered from graphs. */
  function logsModel() {
    const xs = Array.from({ length: 20 }, (_, i) => ((i + 1) % 5 === 0 ? -1 : i + 1));
    const definition = { name: 'logs', task: 'regression', idColumn: 'id', features: [{ name: 'x', type: 'numeric' }], policies: { validation: { bootstrapResamples: 20 } } };
    return oneFeatureModel(definition, `id,x,actual\n${xs.map((x, i) => `r${i},${x},${x}`).join('\n')}\n`);
  }

  /** A model of one feature with the given validation data (`datasets/logs/validation.csv`), and versions registered from graphs. */
  async function oneFeatureModel(definition: Record<string, unknown>, csv: string, options: { storedBeforeChecks?: boolean } = {}) {
    const store = new InMemoryModelRegistry();
    const lake = new MemoryLake();
    const registry = new RegistryUseCases({ registry: store, clock });
    if (!options.storedBeforeChecks) await registry.createModel(definition, carlos);
    // A model stored before createModel checked its column names: in the registry as it was written.
    else await store.createModel({ modelName: 'logs', definition: modelInputSchema.parse(definition), createdAt: AT, updatedAt: AT, createdBy: 'carlos', latestVersion: 0 });
    await lake.write('datasets/logs/validation.csv', Buffer.from(csv));
    const runtime = new OnnxModelRuntime();
    runtimes.push(runtime);
    const deps = { registry, lake, maxArtifactBytes: 1_000_000, runtime };
    const register = async (graph: { bytes: Buffer; signature: unknown }) => {
      const staged = await stageUpload(deps, 'logs', Readable.from([graph.bytes]));
      const manifest = { signature: graph.signature, datasets: [{ role: 'validation', uri: 'datasets/logs/validation.csv' }] };
      return (await registerPackage(deps, { model: 'logs', manifest, artifact: staged, actor: carlos })).version.version;
    };
    const validate = (version: number) =>
      validateVersion({ registry: store, lake, files: new LakeTabularFiles(lake), runtime }, { model: 'logs', version, validatedAt: '2026-06-01T00:00:00.000Z' });
    const evidenceOf = (path: string) => JSON.parse(lake.body(path).toString());
    return { registry, register, validate, evidenceOf };
  }

  it('when the version answers some validation rows with NaN, then it fails saying how many and which, those rows are counted as model_output, and the metrics are measured on the others', async () => {
    const { register, validate, evidenceOf } = await logsModel();
    const outcome = await validate(await register(logRegressor('x')));
    expect(outcome.decision).toBe('fail');
    expect(outcome.reasons).toEqual([
      "the version answers 4 of 20 rows of datasets/logs/validation.csv with no number (row 5: the model's prediction is NaN); they are left out of the metrics",
    ]);
    const evidence = evidenceOf(outcome.evidencePath);
    expect(evidence.dataset).toMatchObject({ rowsRead: 20, rowsEvaluated: 16, rowsRejected: 4, rejectionReasons: { model_output: 4 } });
    expect(evidence.splits[0].challenger.overall.metrics.rmse).toMatchObject({ value: expect.any(Number), rows: 4 });
  });

  it('when the champion answers some validation rows with NaN, then the challenger is compared on the other rows and is not failed for it; the champion\'s rows are reported', async () => {
    const { registry, register, validate, evidenceOf } = await logsModel();
    const champion = await register(logRegressor('x'));
    await registry.applyCommand('logs', champion, { type: 'start_validation' }, theSystem());
    await registry.applyCommand('logs', champion, { type: 'pass_validation', evidenceHash: sha('evidence') }, theSystem());
    await registry.applyCommand('logs', champion, { type: 'approve', evidenceHash: sha('evidence') }, anApprover());
    await registry.applyCommand('logs', champion, { type: 'promote' }, anActor({ id: 'root', roles: ['MLOps.Admin'] }));
    const outcome = await validate(await register(linearRegressor([1], 0, 'x')));
    expect(outcome).toMatchObject({ decision: 'pass', reasons: [] });
    const evidence = evidenceOf(outcome.evidencePath);
    expect(evidence.champion).toMatchObject({ version: champion });
    expect(evidence.dataset).toMatchObject({ rowsEvaluated: 16, rowsRejected: 4, rejectionReasons: { champion_output: 4 } });
    expect(evidence.checks).toContainEqual({
      check: 'champion',
      passed: false,
      gating: false,
      code: 'champion_output',
      message: "the champion answers 4 of 20 rows of datasets/logs/validation.csv with no number (row 5: the model's prediction is NaN); they are left out of both versions' metrics",
    });
  });

  it('when target cells hold no usable actual (0/1 for classes named stay and leave, a label typo), then the evidence says how many and shows one, instead of only "no row could be evaluated" or nothing', async () => {
    const classifier = torchBinaryClassifier([[1]], [0], [1], -10);
    const definition = { name: 'logs', task: 'binary', idColumn: 'id', classLabels: ['stay', 'leave'], features: [{ name: 'input', type: 'numeric' }], policies: { validation: { bootstrapResamples: 20 } } };
    const rows = Array.from({ length: 20 }, (_, i) => i);
    const numbered = await oneFeatureModel(definition, `id,input,actual\n${rows.map((i) => `r${i},${i},${i < 10 ? 0 : 1}`).join('\n')}\n`);
    const none = await numbered.validate(await numbered.register(classifier));
    expect(none.reasons).toEqual([
      "no row of datasets/logs/validation.csv could be evaluated (every row was rejected or had no actual: 0 rejected, 20 without an actual, of which 20 whose actual cell is not usable (row 1: '0' is not one of the class labels (stay, leave)))",
    ]);

    const labels = (i: number) => (i === 7 ? 'leve' : i === 8 ? '' : i < 10 ? 'stay' : 'leave');
    const typo = await oneFeatureModel(definition, `id,input,actual\n${rows.map((i) => `r${i},${i},${labels(i)}`).join('\n')}\n`);
    const outcome = await typo.validate(await typo.register(classifier));
    const evidence = typo.evidenceOf(outcome.evidencePath);
    expect(evidence.dataset).toMatchObject({ rowsRead: 20, rowsEvaluated: 18, rowsWithoutActual: 2 });
    expect(evidence.checks).toContainEqual({
      check: 'dataset',
      passed: false,
      gating: false,
      message: "20 rows of datasets/logs/validation.csv read, 1 whose actual cell is not usable (row 8: 'leve' is not one of the class labels (stay, leave)): they are left out of the metrics",
    });
  });

  it('when the champion\'s transforms reject rows the version scores (a region it never saw), then the evidence says how many are left out of the comparison, instead of counting them as the version\'s', async () => {
    const env = await setup();
    await env.lake.write('datasets/regional/validation.csv', Buffer.from(toCsv(regionalRows(30, 3, { regions: ['north', 'south', 'east'] }))));
    const datasets = [{ role: 'validation', uri: 'datasets/regional/validation.csv' }];
    const register = async (pkg: ReturnType<typeof regionalPackage>, transforms = pkg.manifest.transforms) => {
      const staged = await stageUpload(env.deps, 'regional', Readable.from([pkg.onnx]));
      return (await registerPackage(env.deps, { model: 'regional', manifest: { ...pkg.manifest, transforms }, artifact: staged, actor: carlos })).version.version;
    };
    // The champion's one-hot region refuses a region it was not fitted on.
    const strict = fitTransforms(
      { specVersion: 1, steps: [{ type: 'one_hot', column: 'region', unseen: 'error' }], output: [...FEATURES] },
      { rowCount: 2, numeric: { x1: Float64Array.from([0, 1]), x2: Float64Array.from([0, 1]) }, categorical: { region: ['north', 'south'] } },
    );
    const champion = await register(regionalPackage(TRUE_WEIGHTS, 0, { datasets }), strict);
    await env.registry.applyCommand('regional', champion, { type: 'start_validation' }, theSystem());
    await env.registry.applyCommand('regional', champion, { type: 'pass_validation', evidenceHash: sha('evidence') }, theSystem());
    await env.registry.applyCommand('regional', champion, { type: 'approve', evidenceHash: sha('evidence') }, anApprover());
    await env.registry.applyCommand('regional', champion, { type: 'promote' }, anActor({ id: 'root', roles: ['MLOps.Admin'] }));
    const version = await register(regionalPackage(TRUE_WEIGHTS, 0, { datasets }));
    const runtime = new OnnxModelRuntime();
    runtimes.push(runtime);
    const outcome = await validateVersion({ registry: env.store, lake: env.lake, files: new LakeTabularFiles(env.lake), runtime }, { model: 'regional', version, validatedAt: '2026-06-01T00:00:00.000Z' });
    const evidence = JSON.parse(env.lake.body(outcome.evidencePath).toString());
    expect(evidence.champion).toMatchObject({ version: champion });
    expect(evidence.dataset).toMatchObject({ rowsRead: 30, rowsEvaluated: 20, rowsRejected: 10, rejectionReasons: { champion_transform: 10 } });
    expect(evidence.checks).toContainEqual({
      check: 'champion',
      passed: false,
      gating: false,
      code: 'champion_transform',
      message: expect.stringMatching(
        /^the champion's transforms reject 10 of 30 rows of datasets\/regional\/validation\.csv that the version scores \(row 3: .*east.*\); they are left out of both versions' metrics, so the version is not measured on them$/,
      ),
    });
  });

  it('when a model stored before the column checks groups its validation by a column the data does not have, then the reason says so, not that the column has fewer than 2 values', async () => {
    const definition = { name: 'logs', task: 'regression', idColumn: 'id', features: [{ name: 'x', type: 'numeric' }], policies: { validation: { bootstrapResamples: 0, splits: [{ kind: 'group', column: 'store' }] } } };
    const model = await oneFeatureModel(definition, 'id,x,actual\nr1,1,1\nr2,2,2\nr3,3,3\n', { storedBeforeChecks: true });
    const outcome = await model.validate(await model.register(linearRegressor([1], 0, 'x')));
    expect(outcome.reasons).toEqual(['split group: a group split needs the column store, which the data does not have']);
  });

  it('when the version names no validation dataset, then validation fails saying so', async () => {
    const { deps, runtime } = await registered({ datasets: [] });
    try {
      const outcome = await validateVersion(deps, { model: 'regional', version: 1, validatedAt: '2026-06-01T00:00:00.000Z' });
      expect(outcome).toMatchObject({ decision: 'fail', reasons: [expect.stringMatching(/no validation dataset/)] });
    } finally {
      await runtime.close();
    }
  });
});
