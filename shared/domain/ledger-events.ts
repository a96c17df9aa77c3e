import { MAX_EVENT_ID_LENGTH, type ModelEventInput } from '../schemas/messages';
import type { AuditEvent } from '../schemas/registry';
import { boundedId } from './bounded-id';

/**
 * The event id of a ledger entry: the entry's id, or, for one longer than a Service Bus message id
 * may be (`{model}:v{n}:revalidated:{sha256}` of a long model name), its head and 40 hex digits of
 * the whole id's sha256. Deterministic either way, so the topic still drops a repeated publish.
 */
export function ledgerEventId(entryId: string): string {
  return boundedId(entryId, MAX_EVENT_ID_LENGTH, '#');
}

/**
 * The event published for a ledger entry. Its id is the entry's (deterministic) id, so a publish
 * retried after a failure is dropped by the topic's duplicate detection instead of reaching
 * subscribers twice.
 */
export function modelEventOf(entry: AuditEvent): ModelEventInput {
  const base = { eventId: ledgerEventId(entry.id), model: entry.modelName, occurredAt: entry.at };
  switch (entry.kind) {
    case 'model_created':
      return { ...base, type: 'model.created', data: { actor: entry.actor.id } };
    case 'model_updated':
      return {
        ...base,
        type: 'model.updated',
        data: { actor: entry.actor.id, revision: entry.revision, changedPaths: entry.changes.map((c) => c.path), ...(entry.reason !== undefined ? { reason: entry.reason } : {}) },
      };
    case 'version_registered':
      return { ...base, version: entry.version, type: 'version.registered', data: { actor: entry.actor.id, artifactSha256: entry.artifactSha256 } };
    case 'transition':
      return {
        ...base,
        version: entry.version,
        type: 'lifecycle.changed',
        data: {
          from: entry.from,
          to: entry.to,
          command: entry.command,
          actor: entry.actor.id,
          actorKind: entry.actor.kind,
          revision: entry.revision,
          ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
          ...(entry.evidenceHash !== undefined ? { evidenceHash: entry.evidenceHash } : {}),
        },
      };
    case 'version_revalidated':
      return {
        ...base,
        version: entry.version,
        type: 'version.revalidated',
        data: { actor: entry.actor.id, evidenceHash: entry.evidenceHash, decision: entry.decision, reason: entry.reason },
      };
    case 'champion_changed':
      return {
        ...base,
        ...(entry.to !== null ? { version: entry.to } : {}),
        type: 'champion.changed',
        data: {
          epoch: entry.epoch,
          from: entry.from,
          to: entry.to,
          cause: entry.cause,
          actor: entry.actor.id,
          ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
        },
      };
  }
}
