/**
 * `mlops deadletters <entity> [--replay <sequence-number>]... [--replay-all]`: the dead-letter queue
 * of a Service Bus queue or subscription, listed, and its messages sent again. The Functions host
 * dead-letters a message after its last delivery failed (MaxDeliveryCount) and the app cannot see
 * its dead-letter queue, so this is where an operator reads why and replays it once the cause is fixed.
 */
import type { ServiceBusClient, ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';

import { createServiceBusClient } from '../shared/adapters/servicebus/client';
import { serviceBusSettings } from '../shared/config';
import { defineCommand, EXIT, UsageError } from './command';

const USAGE = `usage: mlops deadletters <queue | topic/Subscriptions/subscription> [--replay <sequence-number>]... [--replay-all]

Lists the entity's dead-letter queue, one message a line: sequence number, message id, first
enqueued, deliveries, dead-letter reason and description, subject and body (JSON).

  --replay <n>    send dead letter n again to its queue (for a subscription: to its topic, so
                  every subscription whose filter matches gets a copy), then remove it from the
                  dead-letter queue; may be given several times
  --replay-all    the same for every message the dead-letter queue holds now

A replayed copy keeps the body, subject, content type, correlation id, application properties
and time to live, under the message id replay:<n>:<original id>: the entity's duplicate
detection would drop a copy that kept the original id.

Settings: SERVICEBUS_CONNECTION_STRING (local: the one npm start prints) or
SERVICEBUS_FULLY_QUALIFIED_NAMESPACE with an Azure login.`;

interface Entity {
  /** Where a replayed copy is sent. */
  sendTo: string;
  receiver(client: ServiceBusClient): ServiceBusReceiver;
}

function entityOf(path: string): Entity {
  const parts = path.split('/');
  if (parts.length === 1 && parts[0]) {
    return { sendTo: path, receiver: (c) => c.createReceiver(path, { subQueueType: 'deadLetter' }) };
  }
  if (parts.length === 3 && parts[0] && parts[1]?.toLowerCase() === 'subscriptions' && parts[2]) {
    const [topic, , subscription] = parts as [string, string, string];
    return { sendTo: topic, receiver: (c) => c.createReceiver(topic, subscription, { subQueueType: 'deadLetter' }) };
  }
  throw new UsageError(`<entity> must be a queue name or topic/Subscriptions/subscription, got '${path}'`);
}

/** Every message the dead-letter queue holds now, oldest first (a peek: nothing is locked). */
async function peekAll(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage[]> {
  const all: ServiceBusReceivedMessage[] = [];
  for (;;) {
    const page = await receiver.peekMessages(100);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

const deadLetterLine = (m: ServiceBusReceivedMessage) =>
  [
    `#${String(m.sequenceNumber)}`,
    `id ${String(m.messageId)}`,
    `enqueued ${m.enqueuedTimeUtc?.toISOString() ?? '?'}`,
    `deliveries ${m.deliveryCount ?? '?'}`,
    `${m.deadLetterReason ?? '(no reason)'}: ${m.deadLetterErrorDescription ?? ''}`,
    `subject ${m.subject ?? '-'}`,
    `body ${JSON.stringify(m.body)}`,
  ].join('  ');

/** The longest message id Service Bus accepts. */
const MAX_MESSAGE_ID_LENGTH = 128;

/**
 * The copy sent again: the original's content under a new id, its sequence number then as much of
 * the original id as fits (the number alone keeps it unique within the entity).
 */
export function replayCopyOf(m: ServiceBusReceivedMessage): ServiceBusMessage {
  const original = String(m.messageId).replace(/^replay:\d+:/, '');
  const prefix = `replay:${String(m.sequenceNumber)}:`;
  return {
    body: m.body as unknown,
    messageId: `${prefix}${original.slice(0, MAX_MESSAGE_ID_LENGTH - prefix.length)}`,
    ...(m.contentType === undefined ? {} : { contentType: m.contentType }),
    ...(m.subject === undefined ? {} : { subject: m.subject }),
    ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }),
    ...(m.applicationProperties === undefined ? {} : { applicationProperties: m.applicationProperties }),
    ...(m.timeToLive === undefined ? {} : { timeToLive: m.timeToLive }),
  };
}

/**
 * Sends the chosen dead letters again and removes them. Only messages there when the command
 * started are replayed: a copy that fails again dead-letters under a new number while this runs.
 * The others stay locked until the end (then abandoned): released at once, they would come back
 * first in the next receive, before the chosen ones behind them.
 */
async function replay(client: ServiceBusClient, entity: Entity, chosen: Set<string>, log: (line: string) => void): Promise<void> {
  const receiver = entity.receiver(client);
  const sender = client.createSender(entity.sendTo);
  const seen = new Set<string>();
  const others: ServiceBusReceivedMessage[] = [];
  try {
    while ([...chosen].some((n) => !seen.has(n))) {
      const batch = await receiver.receiveMessages(100, { maxWaitTimeInMs: 2000 });
      if (batch.length === 0) break;
      for (const m of batch) {
        const n = String(m.sequenceNumber);
        seen.add(n);
        if (!chosen.has(n)) {
          others.push(m);
          continue;
        }
        const copy = replayCopyOf(m);
        await sender.sendMessages(copy);
        await receiver.completeMessage(m);
        log(`replayed #${n} (${String(m.messageId)}) to ${entity.sendTo} as ${String(copy.messageId)}`);
      }
    }
  } finally {
    for (const m of others) await receiver.abandonMessage(m).catch(() => undefined);
    await receiver.close();
    await sender.close();
  }
  const missed = [...chosen].filter((n) => !seen.has(n));
  if (missed.length > 0) throw new Error(`dead letter(s) ${missed.map((n) => `#${n}`).join(', ')} could not be received (taken by another receiver?)`);
}

export const deadlettersCommand = defineCommand({
  name: 'deadletters',
  summary: 'list the dead letters of a Service Bus queue or subscription, and send them again',
  usage: USAGE,
  options: {
    replay: { type: 'string', multiple: true },
    'replay-all': { type: 'boolean' },
  },
  positionals: ['<entity>'],
  async run({ values, positionals }, log) {
    const entity = entityOf(positionals[0]!);
    const asked = values.replay ?? [];
    for (const n of asked) if (!/^\d+$/.test(n)) throw new UsageError(`--replay takes a sequence number, got '${n}'`);
    if (values['replay-all'] && asked.length > 0) throw new UsageError('--replay-all replays every dead letter: give it without --replay');
    const client = createServiceBusClient(serviceBusSettings());
    try {
      const receiver = entity.receiver(client);
      const held = await peekAll(receiver).finally(() => receiver.close());
      const numbers = new Set(held.map((m) => String(m.sequenceNumber)));
      if (asked.length === 0 && !values['replay-all']) {
        for (const m of held) log(deadLetterLine(m));
        log(`${held.length} dead letter(s) in ${positionals[0]!}`);
        return EXIT.ok;
      }
      const unknown = asked.filter((n) => !numbers.has(n));
      if (unknown.length > 0) throw new Error(`no dead letter ${unknown.map((n) => `#${n}`).join(', ')} in ${positionals[0]!} (list them without --replay)`);
      await replay(client, entity, values['replay-all'] ? numbers : new Set(asked), log);
      return EXIT.ok;
    } finally {
      await client.close();
    }
  },
});
