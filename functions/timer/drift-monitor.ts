import { app, type InvocationContext, type Timer } from '@azure/functions';

import { driftMonitoring } from '../../shared/composition';
import { runDriftMonitor } from '../../shared/usecases/drift-monitor';

/**
 * The drift monitor, on the DRIFT_MONITOR_SCHEDULE setting (hourly by default); locally also on
 * demand with `POST /admin/functions/driftMonitor` (docs/devhost.md). Each run goes on from where
 * the last one stopped, so a late or repeated run does no harm.
 */
app.timer('driftMonitor', {
  schedule: '%DRIFT_MONITOR_SCHEDULE%',
  handler: async (timer: Timer, context: InvocationContext): Promise<void> => {
    const report = await runDriftMonitor(driftMonitoring());
    for (const outcome of report.models) {
      if (outcome.unreadableState) {
        context.warn(`driftMonitor: ${outcome.model} v${outcome.version}: left alone: ${outcome.skipped}`);
        continue;
      }
      if (outcome.skipped) {
        context.log(`driftMonitor: ${outcome.model} v${outcome.version}: left alone: ${outcome.skipped}`);
        continue;
      }
      const verdicts = outcome.windows.map((w) => `${w.windowId} drift ${w.drift ?? '-'} performance ${w.performance}`).join('; ');
      context.log(
        `driftMonitor: ${outcome.model} v${outcome.version}: ${outcome.windows.length} window(s)${verdicts ? ` (${verdicts})` : ''}; retraining requested: ${outcome.requests.join(', ') || 'none'}${timer.isPastDue ? ' (run was past due)' : ''}`,
      );
      if (outcome.presumedLost) context.warn(`driftMonitor: ${outcome.model}: failed as presumed lost (no progress within its bound): ${outcome.presumedLost.join(', ')}`);
      for (const { id, reason } of outcome.unreadableWindows ?? []) context.warn(`driftMonitor: ${outcome.model}: window ${id} cannot be read, left out: ${reason}`);
      if (outcome.error) context.warn(`driftMonitor: ${outcome.model} stopped early: ${outcome.error}`);
    }
    if (report.withoutChampion.length > 0) context.log(`driftMonitor: no champion, not monitored: ${report.withoutChampion.join(', ')}`);
    // Outages fail the invocation (the models they hit go on from the same window next run).
    if (report.failures.length > 0) {
      throw new Error(`driftMonitor: ${report.failures.map((f) => `${f.model}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ')}`);
    }
  },
});
