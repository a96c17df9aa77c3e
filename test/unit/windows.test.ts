import { isWindowId, windowFromId, windowIdOf, windowIdPrefixesBetween, windowLengthMs, windowOf } from '../../shared/domain/windows';

describe('monitoring windows', () => {
  it('when windows are daily, hourly or weekly, then they start at UTC midnight, on the hour and on Mondays', () => {
    const at = Date.parse('2026-03-04T13:45:12.345Z'); // a Wednesday
    expect(windowOf(at, windowLengthMs('P1D'))).toEqual({ id: '20260304T0000Z', start: '2026-03-04T00:00:00.000Z', end: '2026-03-05T00:00:00.000Z' });
    expect(windowOf(at, windowLengthMs('PT1H')).id).toBe('20260304T1300Z');
    expect(windowOf(at, windowLengthMs('PT6H')).start).toBe('2026-03-04T12:00:00.000Z');
    expect(windowOf(at, windowLengthMs('P1W'))).toMatchObject({ id: '20260302T0000Z', end: '2026-03-09T00:00:00.000Z' });
    expect(windowOf(Date.parse('1969-12-31T23:00:00Z'), windowLengthMs('P1D')).id).toBe('19691231T0000Z');
  });

  it('when an instant is on a boundary, then it belongs to the window that starts there', () => {
    expect(windowOf(Date.parse('2026-03-05T00:00:00.000Z'), windowLengthMs('P1D')).id).toBe('20260305T0000Z');
    expect(windowOf(Date.parse('2026-03-04T23:59:59.999Z'), windowLengthMs('P1D')).id).toBe('20260304T0000Z');
  });

  it('when an id is checked, then only ids windowIdOf writes pass: not the pattern with no instant or another instant behind it', () => {
    expect(['20260601T0000Z', '20240229T2300Z', '00010101T0000Z'].filter(isWindowId)).toEqual(['20260601T0000Z', '20240229T2300Z', '00010101T0000Z']);
    expect(['20260601T9900Z', '20260230T0000Z', '20261301T0000Z', '20260601T2400Z', '20260601T0060Z', '2026-06-01', ''].filter(isWindowId)).toEqual([]);
  });

  it('when a window id is read back, then it gives the same span; lengths that vary are refused', () => {
    const day = windowLengthMs('P1D');
    expect(windowFromId('20260304T0000Z', day)).toEqual(windowOf(Date.parse('2026-03-04T10:00:00Z'), day));
    expect(() => windowFromId('2026-03-04', day)).toThrow(/not a window id/);
    expect(() => windowLengthMs('P1M')).toThrow(/weeks, days, hours or minutes/);
    expect(() => windowLengthMs('PT30S')).toThrow();
    expect(windowLengthMs('P1DT12H')).toBe(36 * 3600_000);
  });

  it('when a span of window ids is turned into prefixes, then they hold exactly the ids in [from, before), in order, and are few', () => {
    const hour = windowLengthMs('PT1H');
    const ids = Array.from({ length: 3000 }, (_, i) => windowIdOf(Date.parse('2025-11-28T00:00:00Z') + i * 7 * hour)).concat(['00010101T0000Z', '99991231T2300Z']);
    const bounds: Array<[string | undefined, string | undefined]> = [
      ['20260301T0500Z', '20260302T0000Z'],
      ['20251231T2300Z', '20260101T0100Z'],
      [undefined, '20260115T1200Z'],
      ['20260709T0300Z', undefined],
      [undefined, undefined],
      ['20260301T0000Z', '20260301T0000Z'],
    ];
    for (const [from, before] of bounds) {
      const prefixes = windowIdPrefixesBetween(from, before);
      const inSpan = ids.filter((id) => (from === undefined || id >= from) && (before === undefined || id < before)).sort();
      expect(ids.filter((id) => prefixes.some((p) => id.startsWith(p))).sort()).toEqual(inSpan);
      expect([...prefixes].sort()).toEqual(prefixes);
      expect(prefixes.length).toBeLessThanOrEqual(2 * 9 * 12);
    }
    expect(windowIdPrefixesBetween('20260301T0500Z', '20260302T0000Z')).toEqual(['20260301T05', '20260301T06', '20260301T07', '20260301T08', '20260301T09', '20260301T1', '20260301T2']);
    expect(windowIdPrefixesBetween('20260630T0000Z', '20260702T0000Z')).toEqual(['2026063', '20260700', '20260701']);
    expect(windowIdPrefixesBetween(undefined, undefined)).toEqual(['']);
  });
});
