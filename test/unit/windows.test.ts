import { isWindowId, windowFromId, windowLengthMs, windowOf } from '../../shared/domain/windows';

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
});
