import fs from 'node:fs';

import { z } from 'zod';

/**
 * Entity declarations in the shape of the official Service Bus emulator's Config.json
 * (`UserConfig.Namespaces[].Queues|Topics`), so the same file can be handed to either.
 */

const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an ISO 8601 duration limited to days, hours, minutes and seconds (PT1M, P14D). */
export function durationMs(text: string): number {
  const m = ISO_DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) throw new Error(`not an ISO 8601 duration: ${text}`);
  const [, d, h, min, s] = m;
  return (
    ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 +
    Math.round(Number(s ?? 0) * 1000)
  );
}

const duration = z
  .string()
  .refine(
    (v) => ISO_DURATION.test(v) && v !== 'P' && !v.endsWith('T'),
    'an ISO 8601 duration such as PT1M or P14D',
  )
  .transform(durationMs);

const entityName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/, 'entity names use letters, digits, ".", "_" and "-"');

/** Properties that receiving entities (queues, subscriptions) share. */
const receivingProperties = {
  LockDuration: duration.default(60_000),
  MaxDeliveryCount: z.number().int().min(1).max(2000).default(10),
  DefaultMessageTimeToLive: duration.optional(),
  DeadLetteringOnMessageExpiration: z.boolean().default(false),
  RequiresSession: z.literal(false, 'sessions are not supported by the local broker').default(false),
  ForwardTo: z.literal('', 'auto-forwarding is not supported by the local broker').optional(),
  ForwardDeadLetteredMessagesTo: z
    .literal('', 'auto-forwarding is not supported by the local broker')
    .optional(),
};

const duplicateDetection = {
  RequiresDuplicateDetection: z.boolean().default(false),
  DuplicateDetectionHistoryTimeWindow: duration.default(10 * 60_000),
};

/**
 * Premium entities choose their largest message, 1 MB (default) to 100 MB; Standard ones are
 * fixed at 256 KB (checked against the namespace's `Tier` below).
 */
const sendingProperties = {
  ...duplicateDetection,
  MaxMessageSizeInKilobytes: z.number().int().min(1024).max(102_400).optional(),
};

const queueSchema = z.object({
  Name: entityName,
  Properties: z.strictObject({ ...receivingProperties, ...sendingProperties }).prefault({}),
});

const correlationFilterSchema = z
  .strictObject({
    ContentType: z.string().optional(),
    CorrelationId: z.string().optional(),
    /** The message subject (`Label` in the emulator's file). */
    Label: z.string().optional(),
    MessageId: z.string().optional(),
    ReplyTo: z.string().optional(),
    ReplyToSessionId: z.string().optional(),
    SessionId: z.string().optional(),
    To: z.string().optional(),
    /** Application properties that must all be equal. */
    Properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .refine(
    (f) => Object.values(f).some((v) => v !== undefined),
    'a correlation filter needs at least one condition',
  );

const ruleSchema = z.object({
  Name: z.string().min(1),
  Properties: z.object({
    FilterType: z.literal('Correlation', 'only correlation filters are supported by the local broker'),
    CorrelationFilter: correlationFilterSchema,
  }),
});

const subscriptionSchema = z.object({
  Name: entityName,
  Properties: z.strictObject(receivingProperties).prefault({}),
  /** A message is copied to the subscription when any rule matches; no rules means every message. */
  Rules: z.array(ruleSchema).default([]),
});

const topicSchema = z.object({
  Name: entityName,
  Properties: z
    .strictObject({ DefaultMessageTimeToLive: duration.optional(), ...sendingProperties })
    .prefault({}),
  Subscriptions: z.array(subscriptionSchema).default([]),
});

/** The broker's config file. */
export const brokerConfigSchema = z
  .object({
    UserConfig: z.object({
      Namespaces: z
        .array(
          z.object({
            Name: z.string().min(1),
            /** The Service Bus tier whose limits the broker applies (message size). */
            Tier: z.enum(['Standard', 'Premium']).default('Standard'),
            Queues: z.array(queueSchema).default([]),
            Topics: z.array(topicSchema).default([]),
          }),
        )
        .length(1, 'declare exactly one namespace'),
      Logging: z.unknown().optional(),
    }),
  })
  .superRefine((config, ctx) => {
    const ns = config.UserConfig.Namespaces[0];
    if (!ns) return;
    if (ns.Tier === 'Standard') {
      for (const entity of [...ns.Queues, ...ns.Topics]) {
        if (entity.Properties.MaxMessageSizeInKilobytes !== undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `'${entity.Name}': MaxMessageSizeInKilobytes needs "Tier": "Premium" (Standard messages are at most 256 KB)`,
          });
        }
      }
    }
    const seen = new Set<string>();
    for (const name of [...ns.Queues.map((q) => q.Name), ...ns.Topics.map((t) => t.Name)]) {
      if (seen.has(name.toLowerCase()))
        ctx.addIssue({ code: 'custom', message: `entity '${name}' is declared twice` });
      seen.add(name.toLowerCase());
    }
    for (const topic of ns.Topics) {
      const subs = new Set<string>();
      for (const sub of topic.Subscriptions) {
        if (subs.has(sub.Name.toLowerCase())) {
          ctx.addIssue({
            code: 'custom',
            message: `subscription '${topic.Name}/${sub.Name}' is declared twice`,
          });
        }
        subs.add(sub.Name.toLowerCase());
      }
    }
  });

export type BrokerConfigInput = z.input<typeof brokerConfigSchema>;
export type BrokerConfig = z.output<typeof brokerConfigSchema>;
export type QueueConfig = z.output<typeof queueSchema>;
export type TopicConfig = z.output<typeof topicSchema>;
export type SubscriptionConfig = z.output<typeof subscriptionSchema>;
export type CorrelationFilter = z.output<typeof correlationFilterSchema>;
export type NamespaceConfig = BrokerConfig['UserConfig']['Namespaces'][number];

/** Service Bus quotas: 256 KB per message (or batch) on Standard, 1 MB by default on Premium. */
const STANDARD_MAX_MESSAGE_BYTES = 256 * 1024;
const PREMIUM_DEFAULT_MAX_MESSAGE_KB = 1024;

/** The largest message (or batch) a queue or topic accepts, in bytes. */
export function maxMessageBytes(namespace: Pick<NamespaceConfig, 'Tier'>, maxMessageSizeInKilobytes: number | undefined): number {
  if (namespace.Tier === 'Standard') return STANDARD_MAX_MESSAGE_BYTES;
  return (maxMessageSizeInKilobytes ?? PREMIUM_DEFAULT_MAX_MESSAGE_KB) * 1024;
}

export class BrokerConfigError extends Error {
  constructor(
    source: string,
    readonly issues: string[],
  ) {
    super(`Invalid Service Bus broker config (${source}):\n  ${issues.join('\n  ')}`);
    this.name = 'BrokerConfigError';
  }
}

/** Validates a config object; throws BrokerConfigError listing every problem. */
export function parseBrokerConfig(input: unknown, source = 'config'): BrokerConfig {
  const result = brokerConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new BrokerConfigError(source, z.prettifyError(result.error).split('\n'));
}

/** Reads and validates a config file. */
export function loadBrokerConfig(file: string): BrokerConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BrokerConfigError(file, [`cannot read JSON: ${(e as Error).message}`]);
  }
  return parseBrokerConfig(raw, file);
}
