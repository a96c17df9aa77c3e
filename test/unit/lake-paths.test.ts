import {
  assertLakePath,
  lakePathProblem,
  lakePaths,
  parseLabelledPath,
  parseLakePath,
  parseModelFilePath,
} from '../../shared/domain/lake-paths';
import { modelVersionInputSchema } from '../../shared/schemas/model-version';
import { aModelVersionInput, sha } from '../support/builders';

describe('lake paths', () => {
  it('when every path of the "Stores and names" table is built, then each has its documented shape', () => {
    expect(lakePaths.modelVersionFolder('churn', 3)).toBe('models/churn/3/');
    expect(lakePaths.modelArtifact('churn', 3)).toBe('models/churn/3/model.onnx');
    expect(lakePaths.modelManifest('churn', 3)).toBe('models/churn/3/manifest.json');
    expect(lakePaths.transformSpec('churn', 3)).toBe('models/churn/3/transforms.json');
    expect(lakePaths.goldenRecords('churn', 3)).toBe('models/churn/3/golden-records.json');
    expect(lakePaths.incomingPackageFile('churn', 'run-42', 'manifest.json')).toBe('models/churn/incoming/run-42/manifest.json');
    expect(lakePaths.artifactUpload('churn', 'u1')).toBe('models/churn/uploads/u1/model.onnx');
    expect(lakePaths.dataset('churn', 'validation/2026-03.csv')).toBe('datasets/churn/validation/2026-03.csv');
    expect(lakePaths.evidence('churn', 3, 'a'.repeat(64))).toBe(`evidence/churn/3/${'a'.repeat(64)}.json`);
    expect(lakePaths.packageQuarantineFolder('churn', 'run-42')).toBe('quarantine/churn/packages/run-42/');
    expect(lakePaths.packageQuarantine('churn', 'run-42', '2026-03-01T10-00-00.000Z-0123456789ab', 'reason.json')).toBe(
      'quarantine/churn/packages/run-42/2026-03-01T10-00-00.000Z-0123456789ab/reason.json',
    );
    expect(() => lakePaths.evidence('churn', 3, '../x')).toThrow(/sha256/);
    expect(lakePaths.dropsFolder('churn')).toBe('drops/churn/');
    expect(lakePaths.drop('churn', '2026/03/01/batch.csv')).toBe('drops/churn/2026/03/01/batch.csv');
    expect(lakePaths.actualsFolder('churn')).toBe('actuals/churn/');
    expect(lakePaths.actuals('churn', 'march.parquet')).toBe('actuals/churn/march.parquet');
    expect(lakePaths.predictionsRunFolder('churn', 3, 'run-42')).toBe('predictions/churn/v3/run-42/');
    expect(lakePaths.predictionPart('churn', 3, 'run-42', 7)).toBe('predictions/churn/v3/run-42/part-00007.parquet');
    expect(lakePaths.predictionManifest('churn', 3, 'run-42')).toBe('predictions/churn/v3/run-42/_manifest.json');
    expect(lakePaths.quarantine('churn', 'run-42', 'rows.jsonl')).toBe('quarantine/churn/run-42/rows.jsonl');
    expect(lakePaths.labelled('churn', '20260301T0000Z', 'march.csv-0123456789abcdef')).toBe('datasets/churn/labelled/20260301T0000Z/march.csv-0123456789abcdef.parquet');
    expect(lakePaths.lateLabelled('churn', '20260301T0000Z', 'march.csv-0123456789abcdef', 'run-42')).toBe(
      'datasets/churn/labelled/20260301T0000Z/march.csv-0123456789abcdef~run-42.parquet',
    );
    expect(() => lakePaths.lateLabelled('churn', '20260301T0000Z', 'march.csv-0123456789abcdef', '../run')).toThrow(/run id/);
    expect(lakePaths.trainingProfile('churn', 3)).toBe('profiles/churn/v3/training.json');
    expect(lakePaths.runProfile('churn', 'run-42')).toBe('profiles/churn/runs/run-42.json');
    expect(lakePaths.profile('churn', 'windows/2026-03-01.json')).toBe('profiles/churn/windows/2026-03-01.json');
    expect(lakePaths.report('churn', 'drift/2026-03-01.html')).toBe('reports/churn/drift/2026-03-01.html');
  });

  it.each([
    ['a parent segment', '../secrets'],
    ['a nested parent segment', 'a/../../b'],
    ['a current-directory segment', './x'],
    ['an absolute path', '/etc/passwd'],
    ['a drive letter', 'C:/x'],
    ['a backslash', 'a\\b'],
    ['a NUL byte', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['a DEL character', 'a\u007fb'],
    ['an empty segment', 'a//b'],
    ['a trailing slash', 'a/b/'],
    ['an empty name', ''],
  ])('when a name contains %s, then building a path fails with VALIDATION_ERROR', (_what, name) => {
    expect(() => lakePaths.drop('churn', name)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });

  it.each(['Churn', '1churn', 'c', 'churn_v2', 'churn/x', '../churn', 'a'.repeat(64)])(
    'when the model name is %j, then it is refused',
    (model) => {
      expect(() => lakePaths.dropsFolder(model)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    },
  );

  it.each([0, -1, 1.5, Number.NaN])('when the version is %p, then it is refused', (version) => {
    expect(() => lakePaths.modelArtifact('churn', version)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });

  it('when a run id or part number is unsafe, then it is refused', () => {
    expect(() => lakePaths.predictionPart('churn', 1, '../run', 0)).toThrow(/run id/);
    expect(() => lakePaths.predictionPart('churn', 1, 'run', 100000)).toThrow(/part number/);
    expect(() => lakePaths.quarantineFolder('churn', 'a b')).toThrow(/run id/);
  });

  it('when a prefix ends with a slash, then it is accepted as a folder but not as an object path', () => {
    expect(assertLakePath('drops/churn/', { prefix: true })).toBe('drops/churn/');
    expect(lakePathProblem('', { prefix: true })).toBeUndefined();
    expect(lakePathProblem('drops/churn/')).toMatch(/empty segments/);
  });

  it('when a blob event path is parsed, then root, model and rest come back, and foreign paths are ignored', () => {
    expect(parseLakePath('drops/churn/2026/a.csv')).toEqual({ root: 'drops', model: 'churn', rest: '2026/a.csv' });
    expect(parseLakePath('elsewhere/churn/a.csv')).toBeUndefined();
    expect(parseLakePath('drops/Bad_Name/a.csv')).toBeUndefined();
    expect(parseLakePath('drops/churn/../x')).toBeUndefined();
    expect(parseModelFilePath('models/churn/12/manifest.json')).toEqual({ model: 'churn', version: 12, file: 'manifest.json' });
    expect(parseModelFilePath('models/churn/latest/manifest.json')).toBeUndefined();
  });

  it('when a labelled file\'s path is parsed, then a join\'s own file and a late match\'s come back with their parts, and other paths are not labelled files', () => {
    expect(parseLabelledPath(lakePaths.labelled('churn', '20260301T0000Z', 'a1'))).toEqual({ model: 'churn', windowId: '20260301T0000Z', actualsId: 'a1' });
    expect(parseLabelledPath(lakePaths.lateLabelled('churn', '20260301T0000Z', 'a1', 'run-7'))).toEqual({ model: 'churn', windowId: '20260301T0000Z', actualsId: 'a1', runId: 'run-7' });
    expect(parseLabelledPath('datasets/churn/labelled/20260301T0000Z/a1~run-7~x.parquet')).toBeUndefined();
    expect(parseLabelledPath('datasets/churn/labelled/20260301T0000Z/a1.csv')).toBeUndefined();
    expect(parseLabelledPath('datasets/churn/labelled/20260301T0000Z/sub/a1.parquet')).toBeUndefined();
    expect(parseLabelledPath(`${lakePaths.replacedLabelledFolder('churn', 'a1')}20260301T0000Z~run-7.parquet`)).toBeUndefined();
    expect(parseLabelledPath('predictions/churn/labelled/w/a1.parquet')).toBeUndefined();
  });

  it('when a version input points its artifact outside the lake rules, then the schema refuses it', () => {
    const bad = modelVersionInputSchema.safeParse(aModelVersionInput({ artifact: { path: '../x.onnx', sha256: sha('a') } }));
    expect(bad.success).toBe(false);
    expect(modelVersionInputSchema.safeParse(aModelVersionInput()).success).toBe(true);
  });
});
