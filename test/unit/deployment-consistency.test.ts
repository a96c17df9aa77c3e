import fs from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { durationMs, parseBrokerConfig } from '../../devhost/servicebus/broker-config';
import { ROLES } from '../../functions/http/identity';
import { configSchema, parseConfig } from '../../shared/config';
import { COSMOS_RESOURCES, FUNCTION_TIMEOUT, HOST_SETTINGS, LAKE_RESOURCES, SERVICEBUS_RESOURCES } from '../../shared/domain/resources';
import { bicepFiles, blockAfter, INFRA, objectKeys, objectWith, readBicep, stripComments } from '../support/bicep-text';

/**
 * The code, infra/ (Bicep), local.settings.sample.json and the local broker's config must name
 * the same settings and resources: a rename on one side fails here instead of on Azure.
 */
const ROOT = path.join(__dirname, '../..');
const read = (relative: string) => fs.readFileSync(path.join(ROOT, relative), 'utf8');

const sampleSchema = z.object({ Values: z.record(z.string(), z.string()) });
const sample = sampleSchema.parse(JSON.parse(read('local.settings.sample.json'))).Values;

const main = readBicep('main.bicep');
const api = readBicep('app/api.bicep');
const data = readBicep('data.bicep');
const rbac = readBicep('rbac.bicep');

const schemaKeys = Object.keys(configSchema.shape);

/** Settings for local servers only: on Azure the identity replaces them, so infra must not set them. */
const LOCAL_ONLY: Record<string, string> = {
  COSMOS_KEY: 'the local Cosmos server key; the account has local auth disabled',
  COSMOS_ALLOW_INSECURE_TLS: "accepts the local server's self-signed certificate; false (the default) on Azure",
  STORAGE_CONNECTION_STRING: 'the local storage connection string; shared keys are disabled on Azure',
  SERVICEBUS_CONNECTION_STRING: 'the local broker connection string; SAS is disabled on Azure',
};

/** Settings the sample leaves out: an empty value would be refused, and locally they have no value. */
const NOT_IN_SAMPLE: Record<string, string> = {
  STORAGE_BLOB_SERVICE_URI: 'the Azure blob endpoint (identity); locally the connection string is used',
  SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: 'the Azure namespace (identity); locally the connection string is used',
  AZURE_CLIENT_ID: "the user-assigned identity's client id, which exists only on Azure",
  RETRAINING_WEBHOOK_URL: 'optional: an external trainer; unset means models use the built-in one',
  RETRAINING_TRAINING_DATASET: 'optional: a training set path; unset means none',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'Application Insights exists only on Azure (TELEMETRY_EXPORTER is none locally)',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'the identity Application Insights authenticates, only on Azure',
};

/** Settings the platform or the local tooling reads, not the app: allowed beside the schema's. */
const PLATFORM_SETTING = /^(APPLICATIONINSIGHTS_[A-Z_]+|AzureWebJobsStorage__\w+|ServiceBusConnection__\w+|AzureFunctionsJobHost__\w+|DURABLE_TASK_SCHEDULER_CONNECTION_STRING)$/;
const LOCAL_TOOLING_SETTING = /^(FUNCTIONS_WORKER_RUNTIME|DEVHOST_[A-Z_]+)$/;

/** The app settings infra gives the Function App: main.bicep's list and those api.bicep adds. */
function bicepAppSettings(): Set<string> {
  return new Set([
    ...objectKeys(blockAfter(main, 'var appSettings = union(', '(', ')')),
    ...objectKeys(blockAfter(api, 'items(union(appSettings, {')),
  ]);
}

/** Every source file under a folder of the repo. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

describe('app settings: shared/config.ts, infra and local.settings.sample.json', () => {
  const inBicep = bicepAppSettings();

  it('when a setting is in the schema, then infra sets it, unless it is for local servers only', () => {
    const missing = schemaKeys.filter((key) => !(key in LOCAL_ONLY) && !inBicep.has(key));
    expect(missing).toEqual([]);
    const localOnlyOnAzure = Object.keys(LOCAL_ONLY).filter((key) => inBicep.has(key));
    expect(localOnlyOnAzure).toEqual([]);
  });

  it('when a setting is in the schema, then the local sample has it, unless it has no local value', () => {
    expect(schemaKeys.filter((key) => !(key in NOT_IN_SAMPLE) && !(key in sample))).toEqual([]);
    expect(Object.keys(NOT_IN_SAMPLE).filter((key) => key in sample)).toEqual([]);
  });

  it('when a setting is exempted, then it is a setting of the schema (no stale exemptions)', () => {
    expect([...Object.keys(LOCAL_ONLY), ...Object.keys(NOT_IN_SAMPLE)].filter((k) => !schemaKeys.includes(k))).toEqual([]);
  });

  it('when infra or the sample sets a setting, then something reads it (no typos, no leftovers)', () => {
    const known = (key: string) => schemaKeys.includes(key) || key in HOST_SETTINGS;
    expect([...inBicep].filter((key) => !known(key) && !PLATFORM_SETTING.test(key))).toEqual([]);
    expect(Object.keys(sample).filter((key) => !known(key) && !LOCAL_TOOLING_SETTING.test(key))).toEqual([]);
  });

  it('when the host resolves a setting (a connection or a %NAME% expression), then infra and the sample set it', () => {
    const files = [...sources('functions'), ...sources('orchestrations'), 'host.json'];
    const used = new Set<string>();
    for (const file of files) {
      const text = read(file);
      for (const m of text.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)%/g)) used.add(m[1]!);
      for (const m of text.matchAll(/connection:\s*'([^']+)'/g)) used.add(m[1]!);
    }
    expect([...used].filter((key) => !(key in HOST_SETTINGS))).toEqual([]);
    for (const [key, kind] of Object.entries(HOST_SETTINGS)) {
      expect(sample).toHaveProperty([key]);
      // On Azure a connection is identity-based: `<name>__...` settings instead of a string.
      const onAzure = kind === 'connection' ? [...inBicep].some((k) => k.startsWith(`${key}__`)) : inBicep.has(key);
      expect({ key, onAzure }).toEqual({ key, onAzure: true });
    }
  });

  it('when infra gives a setting a literal value, then the schema accepts it', () => {
    const settings = blockAfter(main, 'var appSettings = union(', '(', ')');
    const literals = Object.entries(objectWith(settings, 'COSMOS_DATABASE', 'mlops') ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    );
    expect(literals.length).toBeGreaterThan(20);
    const shape = configSchema.shape as Record<string, z.ZodType>;
    const refused = literals.filter(([key, value]) => key in shape && !shape[key]!.safeParse(value).success);
    expect(refused).toEqual([]);
  });

  it('when the sample is parsed as the app parses its environment, then it is valid', () => {
    expect(() => parseConfig(sample)).not.toThrow();
  });

  it('when the retraining queue redelivers, then RETRAINING_MAX_DELIVERY_COUNT matches its MaxDeliveryCount everywhere', () => {
    const queue = SERVICEBUS_RESOURCES.queues[0];
    const settings = blockAfter(main, 'var appSettings = union(', '(', ')');
    expect(objectWith(settings, 'COSMOS_DATABASE', 'mlops')?.RETRAINING_MAX_DELIVERY_COUNT).toBe(String(queue.maxDeliveryCount));
    expect(sample.RETRAINING_MAX_DELIVERY_COUNT).toBe(String(queue.maxDeliveryCount));
    expect(configSchema.shape.RETRAINING_MAX_DELIVERY_COUNT.parse(undefined)).toBe(queue.maxDeliveryCount);
  });
});

/** host.json's hh:mm:ss time spans in milliseconds. */
function timeSpanMs(span: string): number {
  const [h, m, sec] = span.split(':').map(Number) as [number, number, number];
  return ((h * 60 + m) * 60 + sec) * 1000;
}

describe('function timeout: host.json and shared/domain/resources.ts', () => {
  it('when the drift monitor bounds how long a retraining can take, then FUNCTION_TIMEOUT is the functionTimeout host.json sets', () => {
    const { functionTimeout } = z.object({ functionTimeout: z.string().regex(/^\d{2}:\d{2}:\d{2}$/) }).parse(JSON.parse(read('host.json')));
    expect(durationMs(FUNCTION_TIMEOUT)).toBe(timeSpanMs(functionTimeout));
  });

  it('when a Service Bus handler runs as long as a function may (a built-in training), then the host renews its message lock that long', () => {
    const hostJson = z
      .object({ extensions: z.object({ serviceBus: z.object({ maxAutoLockRenewalDuration: z.string().regex(/^\d{2}:\d{2}:\d{2}$/) }) }) })
      .parse(JSON.parse(read('host.json')));
    // Shorter, the lock runs out under a running handler and the message is handed to a second one.
    expect(timeSpanMs(hostJson.extensions.serviceBus.maxAutoLockRenewalDuration)).toBeGreaterThanOrEqual(durationMs(FUNCTION_TIMEOUT));
  });
});

describe('resources: shared/domain/resources.ts, infra and the local broker', () => {
  const broker = parseBrokerConfig(JSON.parse(read('devhost/servicebus/config.json'))).UserConfig.Namespaces[0]!;

  it('when the code names a Cosmos container, then data.bicep creates it with the same partition key, and no other', () => {
    const inBicep = blockAfter(data, 'var cosmosContainers = [', '[', ']');
    for (const c of COSMOS_RESOURCES.containers) {
      expect({ name: c.name, ...objectWith(inBicep, 'name', c.name) }).toEqual({ name: c.name, partitionKey: c.partitionKey });
    }
    expect(objectKeys(inBicep).filter((k) => k === 'name')).toHaveLength(COSMOS_RESOURCES.containers.length);
    expect(objectWith(data, 'id', COSMOS_RESOURCES.database)).toBeDefined();
  });

  it('when the code names the database and the lake container, then infra sets the same names', () => {
    const settings = objectWith(blockAfter(main, 'var appSettings = union(', '(', ')'), 'COSMOS_DATABASE', COSMOS_RESOURCES.database);
    expect(settings?.DATA_CONTAINER).toEqual({ expression: 'dataContainer' });
    expect(main).toContain(`var dataContainer = '${LAKE_RESOURCES.dataContainer}'`);
    expect(objectWith(main, 'name', { expression: 'dataContainer' })).toBeDefined();
    expect(sample.DATA_CONTAINER).toBe(LAKE_RESOURCES.dataContainer);
    expect(sample.COSMOS_DATABASE).toBe(COSMOS_RESOURCES.database);
  });

  it('when the code names a queue, then data.bicep and the local broker declare it with the same properties', () => {
    expect(broker.Queues.map((q) => q.Name).sort()).toEqual(SERVICEBUS_RESOURCES.queues.map((q) => q.name).sort());
    for (const q of SERVICEBUS_RESOURCES.queues) {
      expect(objectWith(blockAfter(data, 'var queues = [', '[', ']'), 'name', q.name)).toEqual(q);
      expect(broker.Queues.find((b) => b.Name === q.name)?.Properties).toMatchObject({
        LockDuration: durationMs(q.lockDuration),
        MaxDeliveryCount: q.maxDeliveryCount,
        DeadLetteringOnMessageExpiration: q.deadLetteringOnMessageExpiration,
        RequiresDuplicateDetection: q.requiresDuplicateDetection,
        DuplicateDetectionHistoryTimeWindow: durationMs(q.duplicateDetectionHistoryTimeWindow),
      });
    }
  });

  it('when the code names a topic and its subscriptions, then data.bicep and the local broker declare them, filters included', () => {
    const [topic] = SERVICEBUS_RESOURCES.topics;
    const { subscriptions, ...properties } = topic;
    expect(objectWith(data, 'name', topic.name)).toEqual(properties);
    const local = broker.Topics.find((t) => t.Name === topic.name)!;
    expect(local.Properties).toMatchObject({
      RequiresDuplicateDetection: topic.requiresDuplicateDetection,
      DuplicateDetectionHistoryTimeWindow: durationMs(topic.duplicateDetectionHistoryTimeWindow),
    });
    const inBicep = blockAfter(data, 'var eventSubscriptions = [', '[', ']');
    expect(objectKeys(inBicep).filter((k) => k === 'name')).toHaveLength(subscriptions.length);
    expect(local.Subscriptions.map((s) => s.Name).sort()).toEqual(subscriptions.map((s) => s.name).sort());
    for (const s of subscriptions) {
      const rule = 'rule' in s ? s.rule : undefined;
      expect(objectWith(inBicep, 'name', s.name)).toEqual({
        name: s.name,
        lockDuration: s.lockDuration,
        maxDeliveryCount: s.maxDeliveryCount,
        deadLetteringOnMessageExpiration: s.deadLetteringOnMessageExpiration,
        ruleName: rule?.name ?? '',
        label: rule?.correlationLabel ?? '',
      });
      const l = local.Subscriptions.find((x) => x.Name === s.name)!;
      expect(l.Properties).toMatchObject({
        LockDuration: durationMs(s.lockDuration),
        MaxDeliveryCount: s.maxDeliveryCount,
        DeadLetteringOnMessageExpiration: s.deadLetteringOnMessageExpiration,
      });
      expect(l.Rules.map((r) => ({ name: r.Name, correlationLabel: r.Properties.CorrelationFilter.Label }))).toEqual(rule ? [rule] : []);
    }
  });

  it('when a Service Bus trigger names a subscription or an entity setting, then it is in the manifest', () => {
    const [topic] = SERVICEBUS_RESOURCES.topics;
    for (const file of sources('functions')) {
      for (const m of read(file).matchAll(/subscriptionName:\s*'([^']+)'/g)) {
        expect(topic.subscriptions.map((s) => s.name)).toContain(m[1]);
      }
    }
  });

  it('when a blob trigger is registered, then the manifest lists it with the same path and a matching subject filter', () => {
    const registered = sources('functions').flatMap((file) =>
      [...read(file).matchAll(/app\.storageBlob\('([^']+)',\s*\{\s*path:\s*'([^']+)',\s*source:\s*'([^']+)'/g)].map((m) => ({
        functionName: m[1]!,
        path: m[2]!,
        source: m[3]!,
      })),
    );
    expect(registered.map((r) => r.functionName).sort()).toEqual(LAKE_RESOURCES.blobTriggers.map((t) => t.functionName).sort());
    for (const r of registered) {
      const t = LAKE_RESOURCES.blobTriggers.find((x) => x.functionName === r.functionName)!;
      // Flex Consumption has no polling blob trigger: Event Grid delivers the events.
      expect({ path: r.path, source: r.source }).toEqual({ path: t.path, source: 'EventGrid' });
      const relative = t.path.replace(/^%DATA_CONTAINER%\//, '');
      expect(relative.startsWith(t.prefix) && relative.endsWith(t.suffix)).toBe(true);
    }
  });
});

describe('blob triggers: an Event Grid subscription per trigger (infra/app/blob-events.bicep)', () => {
  const events = readBicep('app/blob-events.bicep');
  const subscription = blockAfter(events, "resource blobSubscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@", '[', ']');
  const module = blockAfter(main, "module blobEvents './app/blob-events.bicep'");

  it.each(LAKE_RESOURCES.blobTriggers.map((t) => [t.functionName, t] as const))(
    'when %s is a blob trigger, then Bicep subscribes it to blob-created events under its prefix',
    (functionName, trigger) => {
      expect(objectWith(blockAfter(events, 'var blobTriggers = [', '[', ']'), 'functionName', functionName)).toEqual({
        functionName,
        prefix: trigger.prefix,
        suffix: trigger.suffix,
      });
    },
  );

  it('when Bicep lists blob triggers, then it lists no trigger the code does not have', () => {
    const listed = objectKeys(blockAfter(events, 'var blobTriggers = [', '[', ']')).filter((k) => k === 'functionName');
    expect(listed).toHaveLength(LAKE_RESOURCES.blobTriggers.length);
  });

  it("when an event is delivered, then it goes to the host's blobs_extension webhook for that function, filtered to the lake container", () => {
    expect(subscription).toContain('for t in blobTriggers');
    expect(subscription).toContain(
      "/runtime/webhooks/blobs?functionName=Host.Functions.${t.functionName}&code=${listKeys(resourceId('Microsoft.Web/sites/host', functionAppName, 'default'), '2023-12-01').systemKeys.blobs_extension}'",
    );
    expect(subscription).toContain("includedEventTypes: ['Microsoft.Storage.BlobCreated']");
    expect(subscription).toContain("subjectBeginsWith: '/blobServices/default/containers/${dataContainer}/blobs/${t.prefix}'");
    expect(subscription).toContain('subjectEndsWith: t.suffix');
    expect(module).toMatch(/\bdataContainer: dataContainer\b/);
  });

  it('when an event cannot be delivered, then it is dead-lettered to a blob container that infra creates', () => {
    const deadLetter = blockAfter(subscription, 'deadLetterWithResourceIdentity: {');
    expect(deadLetter).toContain("endpointType: 'StorageBlob'");
    expect(deadLetter).toContain('blobContainerName: deadLetterContainer');
    expect(module).toMatch(/\bdeadLetterContainer: deadLetterContainer\b/);
    expect(main).toContain(`var deadLetterContainer = '${LAKE_RESOURCES.deadLetterContainer}'`);
    expect(objectWith(main, 'name', { expression: 'deadLetterContainer' })).toBeDefined();
  });
});

describe('durable backend: durableBackend in main.bicep, host.json', () => {
  const hostJson = z
    .object({
      extensions: z.object({
        durableTask: z.object({
          hubName: z.string(),
          storageProvider: z.object({ type: z.string().optional(), connectionStringName: z.string().optional() }).optional(),
        }),
      }),
    })
    .parse(JSON.parse(read('host.json')));
  const HOST_OVERRIDE = 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__';

  it('when the parameter is not given, then the backend is the Durable Task Scheduler', () => {
    expect(main).toMatch(/@allowed\(\['dts', 'azureStorage'\]\)\s*(@description\([^\n]*\)\s*)?param durableBackend string = 'dts'/);
  });

  it('when DTS is chosen, then the app gets an identity-based connection and host.json is overridden to read it', () => {
    const settings = objectWith(main, `${HOST_OVERRIDE}type`, 'azureManaged');
    expect(settings).toEqual({
      DURABLE_TASK_SCHEDULER_CONNECTION_STRING: {
        expression: "'Endpoint=${durable.outputs.endpoint};Authentication=ManagedIdentity;ClientID=${identity.outputs.clientId}'",
      },
      [`${HOST_OVERRIDE}type`]: 'azureManaged',
      [`${HOST_OVERRIDE}connectionStringName`]: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING',
    });
    // Only with DTS: the Azure Storage backend is host.json's own default.
    const appSettings = blockAfter(main, 'var appSettings = union(', '(', ')');
    expect(appSettings).toMatch(new RegExp(`durableBackend == 'dts'\\s*\\?\\s*\\{\\s*DURABLE_TASK_SCHEDULER_CONNECTION_STRING`));
    expect(blockAfter(main, "module durable './durable.bicep'")).toBeDefined();
    expect(main).toContain("module durable './durable.bicep' = if (durableBackend == 'dts')");
  });

  it("when the host runs, then host.json names the hub by TASK_HUB_NAME, which infra sets to the scheduler's task hub", () => {
    expect(hostJson.extensions.durableTask.hubName).toBe('%TASK_HUB_NAME%');
    const settings = objectWith(blockAfter(main, 'var appSettings = union(', '(', ')'), 'COSMOS_DATABASE', COSMOS_RESOURCES.database);
    expect(settings?.TASK_HUB_NAME).toEqual({ expression: 'taskHubName' });
    expect(blockAfter(main, "module durable './durable.bicep'")).toMatch(/\btaskHubName: taskHubName\b/);
    expect(readBicep('durable.bicep')).toMatch(/resource taskHub 'Microsoft\.DurableTask\/schedulers\/taskHubs@[^']+' = \{\s*parent: scheduler\s*name: taskHubName/);
  });

  it('when host.json is read locally (Core Tools, devhost), then it keeps the Azure Storage default the override replaces', () => {
    // A storageProvider in host.json would need a scheduler (or its emulator) for every local run.
    expect(hostJson.extensions.durableTask.storageProvider?.type ?? 'AzureStorage').toMatch(/^azure_?storage$/i);
  });
});

describe('App Service Authentication (infra/app/api.bicep authsettingsV2)', () => {
  const auth = blockAfter(api, "resource auth 'Microsoft.Web/sites/config@");
  const routePrefix = z
    .object({ extensions: z.object({ http: z.object({ routePrefix: z.string() }) }) })
    .parse(JSON.parse(read('host.json'))).extensions.http.routePrefix;

  /** The routes `defineRoute` declares with access 'public' (every other one needs a role). */
  const publicPaths = sources('functions/http').flatMap((file) =>
    read(file)
      .split('defineRoute({')
      .slice(1)
      .filter((spec) => /\baccess:\s*'public'/.test(spec))
      .map((spec) => `/${routePrefix}/${/\broute:\s*'([^']+)'/.exec(spec)![1]!}`),
  );

  it('when a request has no token, then it gets 401, except on the public routes', () => {
    expect(auth).toContain("name: 'authsettingsV2'");
    expect(auth).toContain('requireAuthentication: true');
    expect(auth).toContain("unauthenticatedClientAction: 'Return401'");
    const excluded = [...(/excludedPaths:\s*\[([^\]]*)\]/.exec(auth)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!);
    expect(publicPaths.sort()).toEqual(['/api/health', '/api/openapi.json']);
    // The Event Grid webhook is called without a token; its system key guards it.
    expect(excluded.sort()).toEqual([...publicPaths, '/runtime/webhooks/blobs'].sort());
  });

  it('when a token is checked, then it is one Entra ID issued for the app registration given as parameters', () => {
    expect(auth).toContain('clientId: authClientId');
    expect(auth).toContain("openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'");
    expect(auth).toContain("allowedAudiences: ['api://${authClientId}', authClientId]");
    expect(main).toMatch(/@minLength\(1\)\s*@description\([^\n]*\)\s*param authClientId string\n/);
    expect(blockAfter(main, "module api './app/api.bicep'")).toMatch(/\bauthClientId: authClientId\b/);
  });
});

/** The custom metrics the app creates (shared/adapters/telemetry/metrics.ts): names written out in the create calls. */
function emittedMetrics(metricsSource: string): string[] {
  return [...metricsSource.matchAll(/\.create(?:Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)\('([^']+)'/g)].map((m) => m[1]!);
}

/** The custom metrics a KQL query reads: `name == "x"` and `name in ("x", "y")`. */
function queriedMetrics(query: string): string[] {
  const single = [...query.matchAll(/\bname == "([^"]+)"/g)].map((m) => m[1]!);
  const lists = [...query.matchAll(/\bname in \(([^)]*)\)/g)].flatMap((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!));
  return [...single, ...lists];
}

/** The attribute keys a KQL query reads from customDimensions. */
const queriedDimensions = (query: string): string[] => [...query.matchAll(/customDimensions\.(\w+)/g)].map((m) => m[1]!);

/** An attribute key the metrics source sets (`{ key: value }` or shorthand `{ key }`). */
const setsAttribute = (metricsSource: string, key: string): boolean => new RegExp(`[{,]\\s*${key}\\s*[:,}]`).test(metricsSource);

describe('alerts: infra/alerts.bicep against what the app emits', () => {
  const alerts = readBicep('alerts.bicep');
  const metricsSource = read('shared/adapters/telemetry/metrics.ts');
  const emitted = emittedMetrics(metricsSource);
  const queries = [...alerts.matchAll(/query: '([^']+)'/g)].map((m) => m[1]!);

  it('when the metrics module is read, then its metric names are found (the checks below are not vacuous)', () => {
    expect(emitted).toEqual(expect.arrayContaining(['mlops.runs', 'mlops.drift.statistic', 'mlops.drift.breaches', 'mlops.queue.age', 'mlops.approvals.time_left']));
  });

  it('when a log alert queries a custom metric and its dimensions, then the app emits that metric with them', () => {
    expect(queries.length).toBeGreaterThanOrEqual(3);
    for (const query of queries) {
      const metrics = queriedMetrics(query);
      expect(metrics.length).toBeGreaterThan(0);
      expect(metrics.filter((m) => !emitted.includes(m))).toEqual([]);
      for (const [, dimension, value] of query.matchAll(/customDimensions\.(\w+)\)(?: == "([^"]+)")?/g)) {
        expect({ metrics, dimension, set: setsAttribute(metricsSource, dimension!) }).toEqual({ metrics, dimension, set: true });
        if (value) expect(metricsSource).toContain(`${dimension}: '${value}'`);
      }
    }
  });

  it('when a log alert names its measure and dimensions, then its query projects them with the time column and leaves the aggregation to the rule', () => {
    const rules = alerts.split("'Microsoft.Insights/scheduledQueryRules@").slice(1).map((rest) => rest.split(/\nresource /)[0]!);
    expect(rules.length).toBeGreaterThanOrEqual(3);
    for (const rule of rules) {
      const query = /query: '([^']+)'/.exec(rule)![1]!;
      const measure = /metricMeasureColumn: '(\w+)'/.exec(rule)![1]!;
      const dimensions = [...rule.matchAll(/\{ name: '(\w+)', operator: 'Include'/g)].map((m) => m[1]!);
      const projected = /\| project (.+)$/.exec(query)?.[1]?.split(/,\s*/).map((c) => c.split(' = ')[0]!.trim());
      expect({ query, projected }).toEqual({ query, projected: expect.arrayContaining(['timestamp', measure, ...dimensions]) });
      expect(query).not.toMatch(/\bsummarize\b/);
    }
  });

  it('when something needs an operator, then an alert watches it: failed runs, dead letters, drift breaches, approvals about to expire', () => {
    const watched = queries.flatMap(queriedMetrics);
    expect(watched).toEqual(expect.arrayContaining(['mlops.runs', 'mlops.drift.breaches', 'mlops.approvals.time_left']));
    expect(alerts).toContain("metricName: 'DeadletteredMessages'");
    // The approval alert's threshold is the parameter main.bicep passes.
    expect(blockAfter(alerts, "resource approvalExpiring 'Microsoft.Insights/scheduledQueryRules@")).toMatch(/\bthreshold: approvalWarningHours\b/);
    expect(blockAfter(main, "module alerts './alerts.bicep'")).toMatch(/\bapprovalWarningHours: approvalWarningHours\b/);
  });

  it('when main.bicep deploys, then the alerts watch its Application Insights and Service Bus namespace', () => {
    const module = blockAfter(main, "module alerts './alerts.bicep'");
    expect(module).toMatch(/\bappInsightsName: appInsights\.outputs\.name\b/);
    expect(module).toMatch(/\bserviceBusNamespaceName: data\.outputs\.serviceBusNamespaceName\b/);
  });
});

describe('workbook: infra/workbook.bicep and infra/workbook/mlops.workbook.json', () => {
  const workbookBicep = readBicep('workbook.bicep');
  const metricsSource = read('shared/adapters/telemetry/metrics.ts');
  const emitted = emittedMetrics(metricsSource);
  const itemSchema = z.object({ type: z.number(), name: z.string(), content: z.object({ query: z.string().optional(), title: z.string().optional() }).loose() });
  const workbook = z
    .object({ version: z.literal('Notebook/1.0'), items: z.array(itemSchema).min(1), fallbackResourceIds: z.array(z.string()) })
    .parse(JSON.parse(read('infra/workbook/mlops.workbook.json')));
  const queries = workbook.items.filter((i) => i.type === 3).map((i) => i.content.query ?? '');

  it('when the workbook is loaded, then it is a workbook whose every query tile has a query and a title, on the Application Insights resource', () => {
    expect(queries.length).toBeGreaterThanOrEqual(7);
    expect(workbook.items.filter((i) => i.type === 3 && !(i.content.query && i.content.title))).toEqual([]);
    expect(new Set(workbook.items.map((i) => i.name)).size).toBe(workbook.items.length);
    // The placeholder the Bicep replaces with the resource id.
    expect(workbook.fallbackResourceIds).toEqual(['__APP_INSIGHTS_ID__']);
    expect(workbookBicep).toContain("serializedData: replace(loadTextContent('./workbook/mlops.workbook.json'), '__APP_INSIGHTS_ID__', appInsights.id)");
    expect(workbookBicep).toMatch(/resource workbook 'Microsoft\.Insights\/workbooks@2023-06-01' = \{/);
    expect(workbookBicep).toContain("kind: 'shared'");
    expect(workbookBicep).toContain('sourceId: appInsights.id');
  });

  it('when a tile queries a custom metric and its dimensions, then the app emits that metric with them', () => {
    for (const query of queries) {
      const metrics = queriedMetrics(query);
      expect({ query, metrics: metrics.length > 0 }).toEqual({ query, metrics: true });
      expect(metrics.filter((m) => !emitted.includes(m))).toEqual([]);
      expect(queriedDimensions(query).filter((d) => !setsAttribute(metricsSource, d))).toEqual([]);
    }
  });

  it('when the app emits a custom metric, then a tile shows it', () => {
    const shown = new Set(queries.flatMap(queriedMetrics));
    expect(emitted.filter((m) => !shown.has(m))).toEqual([]);
  });

  it('when main.bicep deploys, then the workbook is on its Application Insights', () => {
    expect(blockAfter(main, "module workbook './workbook.bicep'")).toMatch(/\bappInsightsName: appInsights\.outputs\.name\b/);
  });
});

describe('host.json sampling', () => {
  it('when the host samples Application Insights telemetry, then requests, exceptions and logs (lifecycle, drift monitor, approval watch) are never sampled out', () => {
    const host = z
      .object({ logging: z.object({ applicationInsights: z.object({ samplingSettings: z.object({ isEnabled: z.boolean(), excludedTypes: z.string() }) }) }) })
      .parse(JSON.parse(read('host.json')));
    const excluded = host.logging.applicationInsights.samplingSettings.excludedTypes.split(';').map((t) => t.trim());
    expect(excluded).toEqual(expect.arrayContaining(['Request', 'Exception', 'Trace']));
  });
});

describe('infra modules', () => {
  it('when a Bicep file references a module, then it is a local file that exists or a pinned AVM module', () => {
    const refs = bicepFiles().flatMap((file) =>
      [...stripComments(fs.readFileSync(path.join(INFRA, file), 'utf8')).matchAll(/^\s*module\s+\w+\s+'([^']+)'/gm)].map((m) => ({
        file,
        ref: m[1]!,
      })),
    );
    expect(refs.length).toBeGreaterThan(5);
    const bad = refs.filter(({ file, ref }) =>
      ref.startsWith('br/') || ref.includes(':')
        ? !/^br\/public:avm\/(res|ptn|utl)\/[a-z0-9-]+\/[a-z0-9-]+:\d+\.\d+\.\d+$/.test(ref)
        : !fs.existsSync(path.join(INFRA, path.dirname(file), ref)),
    );
    expect(bad).toEqual([]);
  });
});

/** Built-in role definition ids (the same in every tenant). */
const BUILT_IN_ROLES = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419',
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402',
} as const;
const COSMOS_DATA_CONTRIBUTOR = '00000000-0000-0000-0000-000000000002';

/** The role ids rbac.bicep assigns: those of its `roles` table that a role assignment uses. */
function assignedRoles(): Set<string> {
  const table = blockAfter(rbac, 'var roles = {');
  const rest = rbac.replace(table, '');
  const ids = objectWith(table, 'storageBlobDataOwner', BUILT_IN_ROLES.storageBlobDataOwner) ?? {};
  return new Set(
    Object.entries(ids)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .filter(([name]) => new RegExp(`\\broles\\.${name}\\b`).test(rest))
      .map(([, id]) => id),
  );
}

describe('roles: what the code needs against infra/rbac.bicep', () => {
  /** Each need is met by any one of its alternatives, every role of which must be assigned. */
  const needs: { why: string; anyOf: string[][] }[] = [
    {
      why: 'blob triggers (Event Grid source) and the lake: read, write, delete, tags',
      anyOf: [[BUILT_IN_ROLES.storageBlobDataOwner]],
    },
    {
      why: "the host's storage: the blob trigger's poison queue and the Azure Storage durable backend's queues",
      anyOf: [[BUILT_IN_ROLES.storageQueueDataContributor]],
    },
    { why: 'the Azure Storage durable backend: instance and history tables', anyOf: [[BUILT_IN_ROLES.storageTableDataContributor]] },
    { why: 'the Durable Task Scheduler backend: orchestrations, activities, entities', anyOf: [[BUILT_IN_ROLES.durableTaskDataContributor]] },
    {
      why: 'Service Bus triggers receive and settle; the app sends retraining requests and publishes events',
      anyOf: [[BUILT_IN_ROLES.serviceBusDataOwner], [BUILT_IN_ROLES.serviceBusDataSender, BUILT_IN_ROLES.serviceBusDataReceiver]],
    },
    {
      why: 'Application Insights with local auth disabled (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)',
      anyOf: [[BUILT_IN_ROLES.monitoringMetricsPublisher]],
    },
  ];

  it.each(needs)('when the code needs $why, then rbac.bicep assigns it', ({ anyOf }) => {
    const assigned = assignedRoles();
    expect(anyOf.some((roles) => roles.every((r) => assigned.has(r)))).toBe(true);
  });

  it('when a role serves one durable backend, then it is assigned only when that backend is chosen', () => {
    const table = blockAfter(rbac, 'var roles = {');
    const uses = (role: string) => rbac.replace(table, '').split('\n').filter((line) => line.includes(`roles.${role}`));
    expect(uses('storageTableDataContributor').length).toBeGreaterThan(0);
    expect(uses('storageTableDataContributor').every((line) => line.includes("durableBackend == 'azureStorage'"))).toBe(true);
    const dts = blockAfter(rbac, "resource durableRoles 'Microsoft.Authorization/roleAssignments@", '[', ']');
    expect(dts).toContain("if (durableBackend == 'dts')");
    expect(dts).toContain('scope: scheduler');
    expect(dts).toContain('roles.durableTaskDataContributor');
  });

  it('when the code reads Cosmos DB with its identity, then rbac.bicep assigns the built-in data contributor', () => {
    expect(rbac).toContain(`var cosmosDataContributor = '${COSMOS_DATA_CONTRIBUTOR}'`);
    expect(blockAfter(rbac, "resource cosmosRoles 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")).toContain('cosmosDataContributor');
  });

  it('when rbac.bicep names a role, then its id is the built-in one of that name', () => {
    const ids = objectWith(blockAfter(rbac, 'var roles = {'), 'storageBlobDataOwner', BUILT_IN_ROLES.storageBlobDataOwner) ?? {};
    const wrong = Object.entries(ids).filter(([name, id]) => name in BUILT_IN_ROLES && BUILT_IN_ROLES[name as keyof typeof BUILT_IN_ROLES] !== id);
    expect(Object.keys(ids).length).toBeGreaterThan(3);
    expect(wrong).toEqual([]);
  });
});

describe('docs/deploy.md', () => {
  const deployDoc = read('docs/deploy.md');

  it('when the API has a role, a blob trigger or a subscription, then the deployment guide names it', () => {
    const names = [
      ...Object.values(ROLES),
      ...LAKE_RESOURCES.blobTriggers.map((t) => t.functionName),
      ...SERVICEBUS_RESOURCES.topics.flatMap((t) => t.subscriptions.map((x) => x.name)),
      ...COSMOS_RESOURCES.containers.map((c) => c.name),
    ];
    expect(names.filter((name) => !deployDoc.includes(`\`${name}\``))).toEqual([]);
  });

  it('when a doc links into the code, then by repository path, not a relative link into ../shared/', () => {
    const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md'));
    expect(docs.filter((file) => read(file).includes('../shared/'))).toEqual([]);
  });
});
