import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from '@azure/service-bus';

import type { TriggerListener } from '../host/host';
import { resolveSettingRefs } from '../host/host-storage';
import type { Disposable, FunctionInfo, FunctionsWorker } from '../worker';
import { batchMetadata, messageMetadata, messageTraceParent } from './servicebus-metadata';

/** Default app setting for Service Bus connections, as in the Functions extension. */
const DEFAULT_CONNECTION = 'AzureWebJobsServiceBus';

export interface ServiceBusListenerOptions {
  /**
   * The local broker's connection string. A binding whose connection setting is missing, or is a
   * development-emulator string (`UseDevelopmentEmulator=true`) for another port, uses this one.
   */
  brokerConnectionString?: string;
  /** Concurrent invocations per function (host.json `extensions.serviceBus.maxConcurrentCalls`). Default 16. */
  maxConcurrentCalls?: number;
  /** How long a message lock is renewed while its handler runs (host.json `extensions.serviceBus.maxAutoLockRenewalDuration`). Default: the SDK's, 5 minutes. */
  maxAutoLockRenewalDurationMs?: number;
  /** Largest batch for `cardinality: 'many'` functions. Default 100. */
  maxMessageBatchSize?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

interface TriggerBinding {
  queueName?: string;
  topicName?: string;
  subscriptionName?: string;
  connection?: string;
  cardinality?: string;
  autoCompleteMessages?: boolean;
  isSessionsEnabled?: boolean;
}

function isDevelopmentEmulator(value: string): boolean {
  return /UseDevelopmentEmulator=true/i.test(value);
}

/**
 * Serves `app.serviceBusQueue` / `app.serviceBusTopic` functions through the real
 * `@azure/service-bus` client: peek-lock receivers, complete on success, abandon on failure (the
 * delivery count climbs until the broker dead-letters the message), lock renewal while a handler
 * runs. Also performs Service Bus output bindings (`output.serviceBusQueue/Topic`) for every
 * function, whatever its trigger, after the handler returned and before its trigger is settled.
 */
export class ServiceBusListener implements TriggerListener {
  readonly name = 'serviceBus';
  readonly triggerTypes = ['serviceBusTrigger'] as const;
  private readonly clients = new Map<string, ServiceBusClient>();
  private readonly senders = new Map<string, ServiceBusSender>();
  private readonly stoppers: (() => Promise<void>)[] = [];
  private readonly env: NodeJS.ProcessEnv;
  private readonly log: (line: string) => void;
  private stopped = false;
  /** Functions served, for the host's summary. */
  readonly served: { functionName: string; entity: string; cardinality: string }[] = [];

  constructor(private readonly options: ServiceBusListenerOptions = {}) {
    this.env = options.env ?? process.env;
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /** The connection string a binding's `connection` setting resolves to. */
  connectionString(setting: string | undefined): string {
    const name = setting || DEFAULT_CONNECTION;
    const value = this.env[name];
    const broker = this.options.brokerConnectionString;
    if (value && /Endpoint=/i.test(value)) return broker && isDevelopmentEmulator(value) ? broker : value;
    if (broker) return broker;
    throw new Error(
      `Service Bus connection '${name}' is not set: put a connection string in local settings (identity-based connections need Azure).`,
    );
  }

  private client(connectionString: string): ServiceBusClient {
    let client = this.clients.get(connectionString);
    if (!client) {
      client = new ServiceBusClient(connectionString);
      this.clients.set(connectionString, client);
    }
    return client;
  }

  async start(worker: FunctionsWorker): Promise<void> {
    for (const fn of worker.functionsByTrigger('serviceBusTrigger')) this.serve(worker, fn);
  }

  private serve(worker: FunctionsWorker, fn: FunctionInfo): void {
    const binding = this.resolved(fn.trigger as unknown as TriggerBinding);
    if (binding.isSessionsEnabled) {
      this.log(`[servicebus] ${fn.name}: session-enabled triggers are not supported locally; not served.`);
      return;
    }
    const client = this.client(this.connectionString(binding.connection));
    const renewal = this.options.maxAutoLockRenewalDurationMs;
    const receiverOptions = renewal === undefined ? {} : { maxAutoLockRenewalDurationInMs: renewal };
    const receiver = binding.topicName
      ? client.createReceiver(binding.topicName, binding.subscriptionName ?? '', receiverOptions)
      : client.createReceiver(binding.queueName ?? '', receiverOptions);
    const entity = binding.topicName
      ? `${binding.topicName}/Subscriptions/${binding.subscriptionName}`
      : `${binding.queueName}`;
    const many = binding.cardinality === 'many';
    const settle = binding.autoCompleteMessages !== false;
    this.served.push({ functionName: fn.name, entity, cardinality: many ? 'many' : 'one' });
    if (many) {
      this.stoppers.push(this.pullBatches(worker, fn, receiver, settle));
      return;
    }
    // Aborting cancels the SDK's retry-forever back-off too (up to 30 s), which close() leaves armed.
    const abort = new AbortController();
    const subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          // The consumer continues the producer's trace, as the extension does.
          const traceParent = messageTraceParent(message);
          await worker.invoke(fn.name, {
            triggerValue: message.body,
            triggerMetadata: messageMetadata(message),
            ...(traceParent ? { traceParent } : {}),
          });
        },
        processError: async (args) => {
          // Handler failures arrive here after the SDK abandoned the message; the worker logged them.
          if (args.errorSource !== 'processMessageCallback' && !this.stopped) {
            this.log(`[servicebus] ${fn.name} (${entity}): ${args.error.message.split('\n')[0]}`);
          }
        },
      },
      // autoComplete: complete after success, abandon after a throw, as the extension does.
      {
        autoCompleteMessages: settle,
        maxConcurrentCalls: this.options.maxConcurrentCalls ?? 16,
        abortSignal: abort.signal,
      },
    );
    this.stoppers.push(async () => {
      abort.abort();
      await subscription.close();
      await receiver.close();
    });
  }

  private pullBatches(
    worker: FunctionsWorker,
    fn: FunctionInfo,
    receiver: ServiceBusReceiver,
    settle: boolean,
  ): () => Promise<void> {
    let running = true;
    const loop = (async () => {
      while (running) {
        let messages: ServiceBusReceivedMessage[] = [];
        try {
          messages = await receiver.receiveMessages(this.options.maxMessageBatchSize ?? 100, {
            maxWaitTimeInMs: 1000,
          });
        } catch (e) {
          if (running) this.log(`[servicebus] ${fn.name}: receive failed: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        if (messages.length === 0) continue;
        let ok = true;
        try {
          await worker.invoke(fn.name, {
            triggerValue: messages.map((m) => m.body as unknown),
            triggerMetadata: batchMetadata(messages),
          });
        } catch {
          ok = false;
        }
        if (!settle) continue;
        await Promise.all(
          messages.map((m) =>
            (ok ? receiver.completeMessage(m) : receiver.abandonMessage(m)).catch(() => undefined),
          ),
        );
      }
    })();
    return async () => {
      running = false;
      await loop;
      await receiver.close();
    };
  }

  /**
   * Sends what functions put in their Service Bus output bindings; the worker calls it after a
   * successful handler, before the invocation resolves (so before a trigger is settled).
   */
  registerBindings(worker: FunctionsWorker): Disposable {
    return worker.setOutputBindingHandler('serviceBus', ({ binding, value }) =>
      this.sendOutput(binding as unknown as TriggerBinding, value),
    );
  }

  /** Entity names with `%AppSetting%` references resolved, as the host resolves binding expressions. */
  private resolved(binding: TriggerBinding): TriggerBinding {
    const resolve = (name: string | undefined) => (name === undefined ? undefined : resolveSettingRefs(name, this.env));
    return { ...binding, queueName: resolve(binding.queueName), topicName: resolve(binding.topicName), subscriptionName: resolve(binding.subscriptionName) };
  }

  private async sendOutput(unresolved: TriggerBinding, value: unknown): Promise<void> {
    if (value === undefined || value === null) return;
    const binding = this.resolved(unresolved);
    const entity = binding.queueName ?? binding.topicName;
    if (!entity) throw new Error('a Service Bus output binding needs queueName or topicName');
    const connectionString = this.connectionString(binding.connection);
    const key = `${connectionString}|${entity}`;
    let sender = this.senders.get(key);
    if (!sender) {
      sender = this.client(connectionString).createSender(entity);
      this.senders.set(key, sender);
    }
    const bodies = Array.isArray(value) ? (value as unknown[]) : [value];
    if (bodies.length > 0) await sender.sendMessages(bodies.map((body) => ({ body })));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const stop of this.stoppers.splice(0).reverse()) await stop().catch(() => undefined);
    await Promise.all([...this.senders.values()].map((s) => s.close().catch(() => undefined)));
    this.senders.clear();
    await Promise.all([...this.clients.values()].map((c) => c.close().catch(() => undefined)));
    this.clients.clear();
  }
}

/** The listener devhost passes to the host (`listeners: [serviceBusListener(...)]`). */
export function serviceBusListener(options: ServiceBusListenerOptions = {}): ServiceBusListener {
  return new ServiceBusListener(options);
}
