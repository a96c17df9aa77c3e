import fs from 'node:fs';
import path from 'node:path';

import { lakeTabularFiles } from '../../shared/adapters/tabular/lake-tabular-files';
import { ConfigError, configSchema, parseConfig } from '../../shared/config';
import { DEFAULT_CSV_LIMITS } from '../../shared/domain/csv-limits';
import { MemoryLake } from '../support/memory-lake';

describe('config', () => {
  it('when storage is configured, then defaults point at the local services', () => {
    const cfg = parseConfig({ STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' });
    expect(cfg.COSMOS_DATABASE).toBe('mlops');
    expect(cfg.RETRAINING_QUEUE).toBe('retraining-requests');
    expect(cfg.COSMOS_ALLOW_INSECURE_TLS).toBe(false);
  });

  it('when the drift monitor is not configured, then it runs hourly and judges at most 48 windows per model; a five-field schedule is refused', () => {
    const cfg = parseConfig({ STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' });
    expect([cfg.DRIFT_MONITOR_SCHEDULE, cfg.DRIFT_MONITOR_MAX_WINDOWS]).toEqual(['0 0 * * * *', 48]);
    expect(() => parseConfig({ STORAGE_CONNECTION_STRING: 'x', DRIFT_MONITOR_SCHEDULE: '0 * * * *' })).toThrow(/a six-field NCRONTAB expression .*\n.*at DRIFT_MONITOR_SCHEDULE/);
  });

  it('when RETRAINING_QUEUED_TIMEOUT is absent, then a queued retraining request may wait a day; a value that is not a duration is refused', () => {
    expect(parseConfig({ STORAGE_CONNECTION_STRING: 'x' }).RETRAINING_QUEUED_TIMEOUT).toBe('P1D');
    expect(parseConfig({ STORAGE_CONNECTION_STRING: 'x', RETRAINING_QUEUED_TIMEOUT: 'PT6H' }).RETRAINING_QUEUED_TIMEOUT).toBe('PT6H');
    expect(() => parseConfig({ STORAGE_CONNECTION_STRING: 'x', RETRAINING_QUEUED_TIMEOUT: '6 hours' })).toThrow(/RETRAINING_QUEUED_TIMEOUT/);
  });

  it('when actuals settings are absent, then the defaults apply; a lookback that is not a duration is refused', () => {
    const cfg = parseConfig({ STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', ACTUALS_BUCKET_ROWS: '500000' });
    expect(cfg).toMatchObject({ ACTUALS_LOOKBACK: 'P90D', ACTUALS_BUCKET_ROWS: 500_000, ACTUALS_PARALLELISM: 4, ACTUALS_METRICS_MAX_ROWS: 1_000_000, ACTUALS_BOOTSTRAP_RESAMPLES: 0 });
    expect(() => parseConfig({ STORAGE_CONNECTION_STRING: 'x', ACTUALS_LOOKBACK: '90 days', ACTUALS_BUCKET_ROWS: '0' })).toThrow(/ACTUALS_LOOKBACK[\s\S]*ACTUALS_BUCKET_ROWS|ACTUALS_BUCKET_ROWS[\s\S]*ACTUALS_LOOKBACK/);
  });

  it('when SEGMENT_MAX_VALUES is absent, then a segment key keeps 100 values; zero or more than 10000 is refused', () => {
    expect(parseConfig({ STORAGE_CONNECTION_STRING: 'x' }).SEGMENT_MAX_VALUES).toBe(100);
    expect(parseConfig({ STORAGE_CONNECTION_STRING: 'x', SEGMENT_MAX_VALUES: '1000' }).SEGMENT_MAX_VALUES).toBe(1000);
    expect(() => parseConfig({ STORAGE_CONNECTION_STRING: 'x', SEGMENT_MAX_VALUES: '0' })).toThrow(/SEGMENT_MAX_VALUES/);
    expect(() => parseConfig({ STORAGE_CONNECTION_STRING: 'x', SEGMENT_MAX_VALUES: '20000' })).toThrow(/SEGMENT_MAX_VALUES/);
  });

  it('when telemetry is not configured, then no exporter is installed; azure-monitor needs the Application Insights connection string; an unknown exporter is refused', () => {
    expect(parseConfig({ STORAGE_CONNECTION_STRING: 'x' }).TELEMETRY_EXPORTER).toBe('none');
    expect(() => parseConfig({ STORAGE_CONNECTION_STRING: 'x', TELEMETRY_EXPORTER: 'azure-monitor' })).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING: TELEMETRY_EXPORTER=azure-monitor needs it/);
    expect(parseConfig({ STORAGE_CONNECTION_STRING: 'x', TELEMETRY_EXPORTER: 'azure-monitor', APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000' }).TELEMETRY_EXPORTER).toBe('azure-monitor');
    expect(() => parseConfig({ STORAGE_CONNECTION_STRING: 'x', TELEMETRY_EXPORTER: 'jaeger' })).toThrow(/TELEMETRY_EXPORTER/);
  });

  it('when several fields are wrong, then every field error is reported at once', () => {
    let error: unknown;
    try {
      parseConfig({ COSMOS_ENDPOINT: 'not a url', COSMOS_ALLOW_INSECURE_TLS: 'yes' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toMatch(/COSMOS_ENDPOINT/);
    expect(issues).toMatch(/COSMOS_ALLOW_INSECURE_TLS/);
    expect(issues).toMatch(/STORAGE_BLOB_SERVICE_URI/);
  });

  it('when the CSV bounds are not set, then they are the reader defaults; when set, they must be positive whole numbers', () => {
    const storage = { STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };
    expect(parseConfig(storage)).toMatchObject({
      CSV_MAX_RECORD_BYTES: DEFAULT_CSV_LIMITS.maxRecordBytes,
      CSV_MAX_FIELD_BYTES: DEFAULT_CSV_LIMITS.maxFieldBytes,
      CSV_MAX_FIELDS: DEFAULT_CSV_LIMITS.maxFields,
    });
    expect(parseConfig({ ...storage, CSV_MAX_FIELDS: '20' }).CSV_MAX_FIELDS).toBe(20);
    expect(() => parseConfig({ ...storage, CSV_MAX_RECORD_BYTES: '0', CSV_MAX_FIELD_BYTES: 'lots' })).toThrow(/CSV_MAX_RECORD_BYTES[\s\S]*CSV_MAX_FIELD_BYTES/);
  });

  it('when the sample local settings are read, then they give the CSV bounds, at their defaults', () => {
    const sample = JSON.parse(fs.readFileSync(path.join(__dirname, '../../local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> };
    for (const key of ['CSV_MAX_RECORD_BYTES', 'CSV_MAX_FIELD_BYTES', 'CSV_MAX_FIELDS']) expect(Object.keys(configSchema.shape)).toContain(key);
    expect(parseConfig(sample.Values)).toMatchObject({ CSV_MAX_RECORD_BYTES: 4194304, CSV_MAX_FIELD_BYTES: 1048576, CSV_MAX_FIELDS: 10000 });
  });

  it('when the backend builds its TabularFiles, then the CSV bounds of the settings frame the records it plans and reads', async () => {
    const lake = new MemoryLake();
    await lake.write('drops/m/a.csv', Buffer.from(`id,x\n1,2\n${'y'.repeat(300)}\n3,4\n`));
    const files = lakeTabularFiles(lake, parseConfig({ STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', CSV_MAX_RECORD_BYTES: '100' }));
    const plan = await files.plan('drops/m/a.csv', { targetChunkBytes: 1 << 20, targetChunkRows: 1000 });
    expect(plan.rows).toBe(3);
    const opened = await files.open('drops/m/a.csv', plan.chunks[0]!);
    const defects: (string | undefined)[] = [];
    for await (const rows of opened.batches) for (let r = 0; r < rows.rowCount; r += 1) defects.push(rows.defect(r));
    expect(defects).toEqual([undefined, expect.stringMatching(/^the record is 301 bytes long, more than the 100 bytes allowed/), undefined]);
  });
});
