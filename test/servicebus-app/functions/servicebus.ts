import { app, type InvocationContext, output } from '@azure/functions';

/** What the functions saw, for tests (the app runs in the test process). */
export const seen: {
  scored: Array<{ body: unknown; metadata: Record<string, unknown> }>;
  poisonAttempts: number[];
  alerts: Array<{ body: unknown; subject: unknown }>;
  batches: unknown[][];
} = { scored: [], poisonAttempts: [], alerts: [], batches: [] };

const connection = 'ServiceBusConnection';
const results = output.serviceBusQueue({ queueName: 'results', connection });
const audit = output.serviceBusTopic({ topicName: 'events', connection });

/** Queue trigger with a return output (one message) and an extra topic output (two messages). */
app.serviceBusQueue('scoreRequest', {
  connection,
  queueName: 'requests',
  return: results,
  extraOutputs: [audit],
  handler: (message: unknown, context: InvocationContext) => {
    seen.scored.push({ body: message, metadata: context.triggerMetadata ?? {} });
    const request = message as { id: string; x: number };
    context.extraOutputs.set(audit, [
      { kind: 'scored', id: request.id },
      { kind: 'audit', id: request.id },
    ]);
    return { id: request.id, score: request.x * 2 };
  },
});

/** Always fails: the message must end in the dead-letter queue after max delivery count. */
app.serviceBusQueue('alwaysFails', {
  connection,
  queueName: 'poison',
  handler: (_message: unknown, context: InvocationContext) => {
    seen.poisonAttempts.push(Number(context.triggerMetadata?.deliveryCount));
    throw new Error('cannot process this one');
  },
});

/** Topic trigger on a filtered subscription. */
app.serviceBusTopic('onAlert', {
  connection,
  topicName: 'events',
  subscriptionName: 'alerts',
  handler: (message: unknown, context: InvocationContext) => {
    seen.alerts.push({ body: message, subject: context.triggerMetadata?.subject });
  },
});

/** Batch trigger. */
app.serviceBusQueue('scoreBatch', {
  connection,
  queueName: 'bulk',
  cardinality: 'many',
  handler: (messages: unknown[]) => {
    seen.batches.push(messages);
  },
});

/** HTTP trigger with a Service Bus output: outputs work whatever the trigger. */
app.http('enqueueRequest', {
  methods: ['POST'],
  authLevel: 'anonymous',
  route: 'requests',
  extraOutputs: [output.serviceBusQueue({ queueName: 'requests', connection })],
  handler: async (request, context) => {
    const body = await request.json();
    context.extraOutputs.set(context.options.extraOutputs[0]!, body);
    return { status: 202 };
  },
});
