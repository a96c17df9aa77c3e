import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';

import { reconciliation } from '../../shared/composition';
import { uncountedWarnings } from '../../shared/usecases/actuals/window';
import { reconcileOrchestrations } from '../../shared/usecases/reconcile-orchestrations';
import { orchestrationInstances } from '../durable-client';

/**
 * Reconciliation, on the RECONCILE_SCHEDULE setting (hourly at half past by default); locally also
 * on demand with `POST /admin/functions/reconcileOrchestrations`. Fails the runs and actuals joins
 * whose orchestration instance was terminated, failed or purged (or completed long ago) without
 * recording the outcome, so none says `running` for good, fails the validation of versions
 * still `validating` whose lifecycle instance is so, and starts again the lifecycle of versions
 * `registered` or `pending_approval` whose instance is so, and of versions `approved` under a policy
 * with promoteOnApproval, to promote them (docs/production-loop.md). Logs each one failed, each
 * lifecycle started again (for an approved version, when it was approved: it is promoted now),
 * each version whose lifecycle was started again too often or that must not be promoted (left
 * for a person, on every run until one acts), each whose interrupted follow-ups were done
 * now, each retraining request closed because its version is decided, each document left alone
 * because it does not read, and each actuals record whose late files a window recomputed by a
 * failed join's follow-ups could not count (it does not read); an outage on a model or document
 * fails the invocation after the others were reconciled (they are judged, or their follow-ups
 * run, again next time).
 */
app.timer('reconcileOrchestrations', {
  schedule: '%RECONCILE_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const report = await reconcileOrchestrations(reconciliation(orchestrationInstances(df.getClient(context))));
    const problems = report.failures.map((f) => `${f.model}: ${f.error}`);
    for (const outcome of report.models) {
      for (const d of outcome.failed) context.warn(`reconcileOrchestrations: ${outcome.model}: ${d.kind} ${d.id} failed: ${d.error}`);
      for (const r of outcome.restarted) context.warn(`reconcileOrchestrations: ${outcome.model}: version ${r.version} (${r.state}): lifecycle ${r.instanceId} started again (restart ${r.restarts}): ${r.cause}${r.approvedAt ? `; it was approved at ${r.approvedAt} and its lifecycle promotes it now` : ''}`);
      for (const p of outcome.leftForAPerson) context.warn(`reconcileOrchestrations: ${outcome.model}: version ${p.version} (${p.state}): lifecycle ${p.instanceId} not started again: ${p.reason}`);
      // At rest, not stuck: a warning every hour for good would be noise.
      for (const p of outcome.notPromoted) context.debug(`reconcileOrchestrations: ${outcome.model}: version ${p.version} (approved): lifecycle ${p.instanceId} not started again to promote it: ${p.reason}`);
      for (const d of outcome.followedUp) context.log(`reconcileOrchestrations: ${outcome.model}: ${d.kind} ${d.id}: the follow-ups of its reconciled failure, interrupted earlier, are done`);
      for (const r of outcome.retrainingClosed) context.log(`reconcileOrchestrations: ${outcome.model}: retraining request ${r.requestId} closed: its version ${r.version} is ${r.outcome}`);
      for (const u of outcome.unreadable) context.warn(`reconcileOrchestrations: ${outcome.model}: ${u.kind} ${u.id} cannot be read, left alone: ${u.reason}`);
      for (const update of outcome.uncountedWindows) for (const warning of uncountedWarnings(outcome.model, update)) context.warn(`reconcileOrchestrations: ${warning}`);
      problems.push(...outcome.errors.map((e) => `${outcome.model}: ${e.kind} ${e.id}: ${e.error}`));
    }
    const count = (kinds: readonly string[]) => report.models.reduce((n, m) => n + m.failed.filter((d) => kinds.includes(d.kind)).length, 0);
    const restarted = report.models.reduce((n, m) => n + m.restarted.length, 0);
    const leftForAPerson = report.models.reduce((n, m) => n + m.leftForAPerson.length, 0);
    const notPromoted = report.models.reduce((n, m) => n + m.notPromoted.length, 0);
    context.log(
      `reconcileOrchestrations: ${report.models.length} model(s) checked, ${count(['run', 'actuals'])} document(s) failed as their orchestration ended without recording the outcome, ${count(['version'])} version(s) failed validation as their lifecycle ended or is gone while they were validating, ${restarted} version(s) whose lifecycle ended or is gone before they were decided (or, approved, promoted) had it started again, ${leftForAPerson} left for a person (too many restarts), ${notPromoted} approved version(s) left approved as promoting them would undo a later decision or act on an approval not given to promote`,
    );
    if (problems.length > 0) throw new Error(`reconcileOrchestrations: ${problems.join('; ')}`.slice(0, 4000));
  },
});
