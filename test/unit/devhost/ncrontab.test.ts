import { parseSchedule } from '../../../devhost/host/ncrontab';

const at = (iso: string) => new Date(iso);

describe('NCRONTAB schedules', () => {
  it('when the schedule is every five minutes, then the next occurrence is the next multiple of five', () => {
    expect(parseSchedule('0 */5 * * * *').next(at('2026-03-01T10:07:30Z')).toISOString()).toBe('2026-03-01T10:10:00.000Z');
  });

  it('when the schedule names weekdays and an hour, then it skips to the next matching weekday', () => {
    // 2026-03-07 is a Saturday; MON-FRI at 09:30:00
    expect(parseSchedule('0 30 9 * * MON-FRI').next(at('2026-03-06T10:00:00Z')).toISOString()).toBe(
      '2026-03-09T09:30:00.000Z',
    );
  });

  it('when the schedule fires on the first of some months, then months and days roll over', () => {
    expect(parseSchedule('0 0 0 1 Jan,Jul *').next(at('2026-03-15T00:00:00Z')).toISOString()).toBe(
      '2026-07-01T00:00:00.000Z',
    );
  });

  it('when the current instant matches exactly, then the next occurrence is strictly later', () => {
    expect(parseSchedule('*/10 * * * * *').next(at('2026-03-01T10:00:10Z')).toISOString()).toBe('2026-03-01T10:00:20.000Z');
  });

  it('when day 7 is used for Sunday, then it matches Sunday', () => {
    // 2026-03-08 is a Sunday
    expect(parseSchedule('0 0 12 * * 7').next(at('2026-03-05T00:00:00Z')).toISOString()).toBe('2026-03-08T12:00:00.000Z');
  });

  it('when both day-of-month and day-of-week are restricted, then either matches (cron semantics)', () => {
    // 15th of the month or a Monday: from Tue 2026-03-10, Sunday 15th comes before Monday 16th
    expect(parseSchedule('0 0 0 15 * MON').next(at('2026-03-10T00:00:00Z')).toISOString()).toBe('2026-03-15T00:00:00.000Z');
  });

  it('when the schedule is a TimeSpan, then it is a fixed interval', () => {
    expect(parseSchedule('00:00:30').next(at('2026-03-01T10:00:10Z')).toISOString()).toBe('2026-03-01T10:00:40.000Z');
  });

  it('when a field is out of range or the field count is wrong, then parsing fails with the reason', () => {
    expect(() => parseSchedule('0 61 * * * *')).toThrow('minute 61 is out of range 0-59');
    expect(() => parseSchedule('* * *')).toThrow('must have six fields');
    expect(() => parseSchedule('0 0 0 31 2 *').next(at('2026-01-01T00:00:00Z'))).toThrow('no occurrence');
  });
});
