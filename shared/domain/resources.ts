/**
 * The Azure resources the code expects to exist, as plain data: one list that infra/ (Bicep),
 * devhost/servicebus/config.json (the local broker) and the code are checked against
 * (test/unit/deployment-consistency.test.ts). No SDK imports: it is read by tests and by adapters.
 */

/** The Cosmos DB database and its containers; every document carries its model's name. */
export const COSMOS_RESOURCES = {
  database: 'mlops',
  containers: [
    { name: 'models', partitionKey: '/modelName' },
    { name: 'runs', partitionKey: '/modelName' },
    { name: 'audit', partitionKey: '/modelName' },
  ],
} as const;

/**
 * The lake's blob container and the prefixes whose writes start work. Each entry is one
 * `app.storageBlob` trigger (Event Grid source): the function name, the path it binds
 * (`%DATA_CONTAINER%/...`), and the subject filter its event subscription needs. The Event Grid
 * filter can only say "begins with" and "ends with", so the function re-checks the rest.
 */
export const LAKE_RESOURCES = {
  dataContainer: 'mlops',
  /** Where Event Grid puts events it could not deliver to a trigger (same storage account). */
  deadLetterContainer: 'eventgrid-deadletter',
  blobTriggers: [
    { functionName: 'scoreDrop', path: '%DATA_CONTAINER%/drops/{model}/{name}', prefix: 'drops/', suffix: '' },
    { functionName: 'joinActuals', path: '%DATA_CONTAINER%/actuals/{model}/{name}', prefix: 'actuals/', suffix: '' },
    {
      functionName: 'registerModelPackage',
      path: '%DATA_CONTAINER%/models/{model}/incoming/{name}/manifest.json',
      prefix: 'models/',
      suffix: '/manifest.json',
    },
  ],
} as const;

/** A subscription rule: a correlation filter on the message's subject (Label), as the broker's config names it. */
export interface SubscriptionSpec {
  readonly name: string;
  readonly lockDuration: string;
  readonly maxDeliveryCount: number;
  readonly deadLetteringOnMessageExpiration: boolean;
  readonly rule?: { readonly name: string; readonly correlationLabel: string };
}

/**
 * host.json `functionTimeout` (`00:30:00`) as an ISO 8601 duration: one invocation's limit. The
 * drift monitor derives from it how long a retraining request can take without progress.
 */
export const FUNCTION_TIMEOUT = 'PT30M';

/** Service Bus: the retraining queue and the events topic with its subscriptions. */
export const SERVICEBUS_RESOURCES = {
  queues: [
    {
      name: 'retraining-requests',
      lockDuration: 'PT5M',
      // RETRAINING_MAX_DELIVERY_COUNT must equal this: on that delivery a failing request is recorded as dead-lettered.
      maxDeliveryCount: 5,
      deadLetteringOnMessageExpiration: true,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: 'P1D',
    },
  ],
  topics: [
    {
      name: 'model-events',
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: 'PT1H',
      subscriptions: [
        // Every event, for consumers outside the app (and the tests).
        { name: 'all-events', lockDuration: 'PT1M', maxDeliveryCount: 10, deadLetteringOnMessageExpiration: false },
        {
          name: 'drift-alerts',
          lockDuration: 'PT1M',
          maxDeliveryCount: 10,
          deadLetteringOnMessageExpiration: true,
          rule: { name: 'drift-detected', correlationLabel: 'drift.detected' },
        },
        // Read by resumeWaitingRuns (functions/servicebus/champion-changes.ts).
        {
          name: 'champion-changes',
          lockDuration: 'PT1M',
          maxDeliveryCount: 10,
          deadLetteringOnMessageExpiration: true,
          rule: { name: 'champion-changed', correlationLabel: 'champion.changed' },
        },
      ] satisfies readonly SubscriptionSpec[],
    },
  ],
} as const;

/**
 * Settings the Functions host itself resolves (not shared/config.ts): trigger connections, and
 * `%NAME%` expressions in bindings and host.json. They must be set wherever the host runs.
 */
export const HOST_SETTINGS = {
  /** The host's storage (timers' locks, blob triggers, the Azure Storage durable backend). */
  AzureWebJobsStorage: 'connection',
  /** The Service Bus triggers' connection. */
  ServiceBusConnection: 'connection',
  /** host.json `durableTask.hubName`. */
  TASK_HUB_NAME: 'expression',
  DATA_CONTAINER: 'expression',
  RETRAINING_QUEUE: 'expression',
  EVENTS_TOPIC: 'expression',
  DRIFT_MONITOR_SCHEDULE: 'expression',
  APPROVAL_WATCH_SCHEDULE: 'expression',
  RECONCILE_SCHEDULE: 'expression',
  SCHEDULED_INFERENCE_CHECK: 'expression',
} as const satisfies Record<string, 'connection' | 'expression'>;
