import type * as df from 'durable-functions';
import { z } from 'zod';

import { dataLake, registryStore } from '../../shared/composition';
import { hasEndedStatus } from '../../shared/domain/policies/orchestration-outcome';
import { approvalsInboxSchema, approvalsQuerySchema } from '../../shared/schemas/approvals';
import { isoDateTimeSchema } from '../../shared/schemas/common';
import { approvalsInbox } from '../../shared/usecases/approvals-inbox';
import { lifecycleStatus } from '../durable-client';
import { defineRoute } from './api';
import { DECISION_ROLE, hasRole, ROLES } from './identity';
import { versionPath } from './views';

/** What a lifecycle waiting for a decision says in its custom status: the deadline its timer runs to. */
const waitingLifecycleSchema = z.object({ state: z.literal('pending_approval'), approvalDeadline: isoDateTimeSchema });

/** The deadline the version's lifecycle waits until, while it runs and reports one. */
async function lifecycleDeadline(client: df.DurableClient, model: string, version: number): Promise<string | undefined> {
  const status = await lifecycleStatus(client, { model, version });
  if (!status || hasEndedStatus(status.runtimeStatus)) return undefined;
  const waiting = waitingLifecycleSchema.safeParse(status.customStatus);
  return waiting.success ? waiting.data.approvalDeadline : undefined;
}

defineRoute({
  name: 'listApprovals',
  method: 'GET',
  route: 'approvals',
  summary: 'The approvals inbox: every version waiting for a decision, soonest deadline first, with whether you may decide it (?model=, ?youMayDecide=)',
  description:
    'Versions in pending_approval across every model (also one whose policy approves automatically now: a version whose lifecycle started before that waits for a person), each with its deadline, the validation decision and headline metric against the champion, and youMayDecide (whyNot when false) by the rule approve and reject apply. A model or a waiting version whose stored document no longer reads is listed in unreadable (a version with its number); the others are still listed. An outage is a 500.',
  tags: ['decisions'],
  access: ROLES.reader,
  query: approvalsQuerySchema,
  responses: { 200: { description: 'The versions waiting for a decision; models and versions whose stored document does not read apart, with the reason', schema: approvalsInboxSchema } },
  handler: async ({ query, actor, client }) => {
    const caller = actor!;
    const inbox = await approvalsInbox(
      { registry: registryStore(), lake: dataLake(), lifecycleDeadline: (model, version) => lifecycleDeadline(client, model, version) },
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
