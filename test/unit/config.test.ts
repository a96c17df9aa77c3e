import { ConfigError, parseConfig } from '../../shared/config';

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
});
