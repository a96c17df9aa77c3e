import { app, type Timer } from '@azure/functions';

/** Every tick the timer saw, for tests. */
export const ticks: Array<{ isPastDue: boolean; at: number }> = [];

app.timer('sampleTick', {
  schedule: '%SAMPLE_TICK_SCHEDULE%',
  runOnStartup: true,
  handler: (timer: Timer) => {
    ticks.push({ isPastDue: timer.isPastDue, at: Date.now() });
  },
});
