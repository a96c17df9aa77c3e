import { app, type InvocationContext, type Timer } from '@azure/functions';

import { recordPendingApprovals } from '../../shared/adapters/telemetry/metrics';
import { registryStore } from '../../shared/composition';
import { pendingApprovals } from '../../shared/usecases/pending-approvals';

/**
 * The approval watch, on the APPROVAL_WATCH_SCHEDULE setting (every 15 minutes by default):
 * reads the versions waiting in pending_approval from the registry, with each one's deadline
 * (the transition into pending_approval plus the model's approval timeout), and records the
 * metrics `mlops.approvals.pending` and `mlops.approvals.time_left` that the approval alert and
 * the workbook read (docs/observability.md). Computed from stored state, so it is the same
 * whichever instance runs it and however often; nothing is measured inside the orchestration.
 * A model whose versions cannot be read (an outage, its model document damaged) is left out of the
 * metrics (no data point, not 0); a waiting version whose document does not read is left out of its
 * model's count, whose other versions are recorded. Either fails the invocation, naming it, after
 * the others were recorded.
 */
app.timer('approvalWatch', {
  schedule: '%APPROVAL_WATCH_SCHEDULE%',
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const models = await pendingApprovals(registryStore(), new Date());
    recordPendingApprovals(models);
    for (const p of models.flatMap((m) => m.pending)) {
      const hours = (p.timeLeftMs / 3_600_000).toFixed(1);
      context.log(`approvalWatch: ${p.model} v${p.version} pending since ${p.pendingSince}, expires ${p.deadline} (${p.timeLeftMs < 0 ? `overdue by ${hours.slice(1)} h` : `${hours} h left`})`);
    }
    // Reported after the others were recorded: the invocation fails naming the models and versions it could not read.
    const unread = [
      ...models.flatMap((m) => (m.error !== undefined ? [`${m.model}: ${m.error}`] : [])),
      ...models.flatMap((m) => m.unreadable.map((u) => `${m.model} v${u.version ?? '?'}: ${u.reason}`)),
    ];
    if (unread.length > 0) throw new Error(`approvalWatch: versions not read: ${unread.join('; ')}`);
  },
});
