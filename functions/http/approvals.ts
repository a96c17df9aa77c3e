import { dataLake, registryStore } from '../../shared/composition';
import { approvalsInboxSchema, approvalsQuerySchema } from '../../shared/schemas/approvals';
import { approvalsInbox } from '../../shared/usecases/approvals-inbox';
import { lifecycleDeadlines } from '../durable-client';
import { defineRoute } from './api';
import { DECISION_ROLE, hasRole, ROLES } from './identity';
import { versionPath } from './views';

defineRoute({
  name: 'listApprovals',
  method: 'GET',
  route: 'approvals',
  summary: 'The approvals inbox: every version waiting for a decision, soonest deadline first, with whether you may decide it (?model=, ?youMayDecide=)',
  description:
    'Versions in pending_approval across every model (also one whose policy approves automatically now: a version whose lifecycle started before that waits for a person), each with its deadline (the one its running lifecycle reports, else the one the policy gives: deadlineSource), the validation decision and headline metric against the champion, and youMayDecide (whyNot when false) by the rule approve and reject apply. A model or a waiting version whose stored document no longer reads is listed in unreadable (a version with its number); the others are still listed. An outage is a 500.',
  tags: ['decisions'],
  access: ROLES.reader,
  query: approvalsQuerySchema,
  responses: { 200: { description: 'The versions waiting for a decision; models and versions whose stored document does not read apart, with the reason', schema: approvalsInboxSchema } },
  handler: async ({ query, actor, client }) => {
    const caller = actor!;
    const inbox = await approvalsInbox(
      { registry: registryStore(), lake: dataLake(), lifecycleDeadline: lifecycleDeadlines(client) },
      {
        actor: caller,
        now: new Date(),
        ...(query.model !== undefined ? { model: query.model } : {}),
        ...(query.youMayDecide !== undefined ? { youMayDecide: query.youMayDecide } : {}),
        // The decision routes check their role before the version's rules: so does the inbox.
        ...(hasRole(caller, DECISION_ROLE) ? {} : { refusedByRoute: `approve and reject need the role ${DECISION_ROLE}` }),
      },
    );
    return {
      status: 200,
      body: {
        approvals: inbox.approvals.map((entry) => {
          const version = versionPath(entry.model, entry.version);
          return { ...entry, links: { version, approve: `${version}/approve`, reject: `${version}/reject` } };
        }),
        unreadable: inbox.unreadable,
      },
    };
  },
});
