/** Version numbers in paths and queries: digits only, so `01`, ` 1` or `1e2` are not read as 1 or 100; time ranges in order. */
import { auditQuerySchema, monitoringQuerySchema, versionParamsSchema } from '../../../shared/schemas/api';

describe('a version in a path or a query', () => {
  it.each(['1', '42', '2147483647'])('when it is %p, then it is that number', (text) => {
    expect(versionParamsSchema.parse({ model: 'demand', version: text })).toEqual({ model: 'demand', version: Number(text) });
    expect(auditQuerySchema.parse({ version: text })).toEqual({ version: Number(text), limit: 100 });
  });

  it.each(['0', '-1', '+1', '01', ' 1', '1 ', '1e2', '1.0', '1.5', '0x10', 'abc', '', '2147483648', '99999999999'])('when it is %p, then it is refused', (text) => {
    const result = versionParamsSchema.safeParse({ model: 'demand', version: text });
    expect(result.success).toBe(false);
    expect(auditQuerySchema.safeParse({ version: text }).success).toBe(false);
  });

  it('when it is refused for its form, then the message says how a version is written', () => {
    expect(versionParamsSchema.safeParse({ model: 'demand', version: '1e2' }).error?.issues[0]?.message).toBe('a version is a positive whole number written in digits (1, 2, ...)');
  });
});

describe('a time range in a query', () => {
  it('when from is after to, then it is refused saying so, not answered with an empty list', () => {
    const audit = auditQuerySchema.safeParse({ from: '2026-03-01T00:00:00Z', to: '2026-02-01T00:00:00Z' });
    expect(audit.error?.issues[0]).toMatchObject({ path: ['from'], message: "'from' is after 'to': the range holds no time" });
    // Offsets count: 01:00+02:00 is 23:00 the day before.
    expect(monitoringQuerySchema.safeParse({ from: '2026-03-01T01:00:00+02:00', to: '2026-03-01T00:00:00Z' }).success).toBe(true);
    expect(monitoringQuerySchema.safeParse({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }).error?.issues[0]?.message).toMatch(/not before 'to'/);
  });

  it('when a bound is no date-time at all, then that bound is refused and the range is not also called out of order', () => {
    const audit = auditQuerySchema.safeParse({ from: '2026-01-01T00:00:00Z', to: '2026-13-01T00:00:00Z' });
    expect(audit.error?.issues.map((i) => [i.path, i.message])).toEqual([[['to'], 'Invalid ISO datetime']]);
    const monitoring = monitoringQuerySchema.safeParse({ from: 'yesterday', to: '2026-03-01T00:00:00Z' });
    expect(monitoring.error?.issues.map((i) => [i.path, i.message])).toEqual([[['from'], 'Invalid ISO datetime']]);
  });

  it('when from is before to, equal to it for the audit ledger, or either is left out, then it is read', () => {
    // Both routes page: the default page size comes with the range.
    expect(auditQuerySchema.parse({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T00:00:00Z' })).toEqual({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T00:00:00Z', limit: 100 });
    expect(monitoringQuerySchema.parse({ from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' })).toEqual({ from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z', limit: 100 });
    expect(monitoringQuerySchema.parse({ to: '2026-03-01T00:00:00Z' })).toEqual({ to: '2026-03-01T00:00:00Z', limit: 100 });
  });
});
