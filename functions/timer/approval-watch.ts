import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';

import { recordPendingApprovals } from '../../shared/adapters/telemetry/metrics';
import { registryStore } from '../../shared/composition';
import { type PendingApproval, pendingApprovals } from '../../shared/usecases/pending-approvals';
import { lifecycleDeadlines } from '../durable-client';

/**
 * The approval watch, on the APPROVAL_WATCH_SCHEDULE setting (every 15 minutes by default):
 * reads the versions waiting in pending_approval from the registry, with the deadline each one's
 * lifecycle will expire it at (the one its running lifecycle reports in its status, which keeps
 * the timeout it read as it started; else the transition into pending_approval plus the model's
 * approval timeout now), and records the metrics `mlops.approvals.pending` and
 * `mlops.approvals.time_left` that the approval alert and the workbook read
 * (docs/observability.md). Nothing is measured inside the orchestration, so it is the same
 * whichever instance runs it and however often.
 * A model whose versions cannot be read (an outage, its model document damaged) is left out of the
 * metrics (no data point, not 0); a waiting version whose document does not read is left out of its
 * model's count, whose other versions are recorded. A version whose lifecycle's status cannot be
 * read (the Durable client failed or did not answer in time) is recorded with the policy's
 * deadline and a warning. Each of these fails the invocation, naming it, after the others were
 * recorded.
 */
app.timer('approvalWatch', {
  schedule: '%APPROVAL_WATCH_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const models = await pendingApprovals(registryStore(), new Date(), { lifecycleDeadline: lifecycleDeadlines(df.getClient(context)) });
    recordPendingApprovals(models);
    for (const p of models.flatMap((m) => m.pending)) context.log(`approvalWatch: ${p.model} v${p.version} pending since ${p.pendingSince}, expires ${p.deadline} (${deadlineSourceText(p)}, ${timeLeftText(p)})`);
    const statusUnread = models.flatMap((m) => m.statusUnread.map((u) => `${m.model} v${u.version}: ${u.reason}`));
    for (const u of statusUnread) context.warn(`approvalWatch: ${u}: its lifecycle's status could not be read, so its deadline is the policy's, which its lifecycle does not keep if the model's timeout changed since it started`);
    // Reported after the others were recorded: the invocation fails naming the models and versions it could not read.
    const unread = [
      ...models.flatMap((m) => (m.error !== undefined ? [`${m.model}: ${m.error}`] : [])),
      ...models.flatMap((m) => m.unreadable.map((u) => `${m.model} v${u.version ?? '?'}: ${u.reason}`)),
    ];
    const problems = [...(unread.length > 0 ? [`versions not read: ${unread.join('; ')}`] : []), ...(statusUnread.length > 0 ? [`lifecycle statuses not read: ${statusUnread.join('; ')}`] : [])];
    if (problems.length > 0) throw new Error(`approvalWatch: ${problems.join('; ')}`);
  },
});

const deadlineSourceText = (p: PendingApproval) => (p.deadlineSource === 'lifecycle' ? "its lifecycle's deadline" : "the policy's deadline");

function timeLeftText(p: PendingApproval): string {
  const hours = (Math.abs(p.timeLeftMs) / 3_600_000).toFixed(1);
  return p.timeLeftMs < 0 ? `overdue by ${hours} h` : `${hours} h left`;
}
