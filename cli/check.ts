/**
 * `mlops check <package-dir|manifest.json> [--data sample.csv]`: everything registration checks,
 * offline, with a report line per check.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { FileLake } from '../shared/adapters/local/file-lake';
import { OnnxModelRuntime } from '../shared/adapters/onnx/onnx-model-runtime';
import { LakeTabularFiles } from '../shared/adapters/tabular/lake-tabular-files';
import { isDomainError } from '../shared/domain/errors';
import { checkVersion, type VersionCheck } from '../shared/usecases/check-version';
import { defineCommand, EXIT, UsageError } from './command';
import { localFile, readPackageManifest, versionPackage } from './version-package';

const USAGE = `usage: mlops check <package-dir|manifest.json> [--data <sample.csv|.parquet>]

Runs every check registration runs, on a local package (a folder with manifest.json, or the
manifest itself), and prints one line per check:

  manifest    (before the checks) registration's manifest schema accepts it too: a description
              of at most 2000 characters, no field registration does not know
  artifact    the sha256 matches; a classifier's ZipMap is rewritten into its probabilities
              tensor (and the rewritten sha256 matches); onnxruntime loads the graph
  signature   the graph matches the signature; class labels agree with the graph's; every input
              is fed (the transforms' features, or a column of a type it takes); the outputs
              give a prediction or class probabilities
  transforms  every raw column the fitted transforms read is a feature of the model
  parity      the golden records' features and outputs are reproduced (tolerance 1e-6)
  sample      with --data: the file (its first chunk) is scored, at least one row gets a prediction
  datasets    (a note, not a check) when no dataset has the role validation: the lifecycle
              validates on one, so the version would register and then fail its validation

options:
      --data <file>   a data file to score as a sample
  -h, --help          this text

Exit codes: 0 every check passed, 1 a check failed (or the package cannot be read), 2 usage.`;

export const checkCommand = defineCommand({
  name: 'check',
  summary:
    'check a registration package offline, as registration would (signature, ZipMap, parity, a sample)',
  usage: USAGE,
  options: { data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  positionals: ['<package-dir|manifest.json>'],
  async run({ values, positionals }, log) {
    const target = positionals[0]!;
    const manifestFile =
      fs.existsSync(target) && fs.statSync(target).isDirectory()
        ? path.join(target, 'manifest.json')
        : target;
    if (values.data && !fs.existsSync(values.data))
      throw new UsageError(`--data: no such file ${values.data}`);
    if (!fs.existsSync(manifestFile))
      throw new UsageError(
        `<package-dir|manifest.json>: ${manifestFile} does not exist (give a package folder with manifest.json, or a manifest)`,
      );
    const { manifest, registration } = readPackageManifest(manifestFile);
    const pkg = versionPackage(manifestFile, manifest);
    const runtime = new OnnxModelRuntime();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-check-'));
    const line = (status: string, check: string, message: string) =>
      log(`${status.padEnd(5)} ${check.padEnd(11)} ${message}`);
    // Said where the parity line would be: after the transforms, before the sample.
    let noted = pkg.goldenRecords !== undefined;
    const noteNoGoldenRecords = () => {
      if (!noted)
        line(
          'note',
          'parity',
          'no golden records: nothing compared (mlops package --sample --expected makes them)',
        );
      noted = true;
    };
    try {
      // The sample is read through a lake of its own (localFile), its part written in the scratch folder.
      const sample = values.data ? localFile(values.data) : undefined;
      const lake = new FileLake(scratch);
      const checked = await checkVersion({ runtime, lake, files: new LakeTabularFiles(sample?.lake ?? lake) }, pkg, {
        ...(sample
          ? { sample: { source: sample.path, name: values.data!, partPath: 'sample.parquet', quarantinePath: 'sample.rejected.jsonl' } }
          : {}),
        report: (check, message) => {
          if (check === 'sample') noteNoGoldenRecords();
          line('ok', check, message);
        },
      });
      noteNoGoldenRecords();
      // Not a registration check, but what its lifecycle needs first: without it the version
      // registers and then fails validation, which "ready to register" would not have warned of.
      if (!registration.datasets.some((d) => d.role === 'validation'))
        line(
          'note',
          'datasets',
          'no validation dataset (datasets: [{ "role": "validation", "uri": "datasets/<model>/validation.csv" }], a file in the lake: mlops lake put): the lifecycle validates on it, and fails the validation of a version without one',
        );
      log(
        `passed: ${checked.definition.name} v${pkg.version} is ready to register (stored artifact sha256 ${checked.artifact.sha256})`,
      );
      return EXIT.ok;
    } catch (e) {
      const check = isDomainError(e) ? (e.details?.check as VersionCheck | undefined) : undefined;
      if (!isDomainError(e) || !check) throw e;
      line('FAIL', check, `${e.code}: ${e.message}`);
      return EXIT.failed;
    } finally {
      await runtime.close();
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  },
});
