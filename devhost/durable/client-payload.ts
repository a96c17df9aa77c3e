import { z } from 'zod';

/** Where the Durable extension's HTTP API lives on the host. */
export const durableApiBasePath = '/runtime/webhooks/durabletask';

/** The `durableClient` input binding value, as the extension hands it to the Node worker. */
export const durableClientPayloadSchema = z.object({
  taskHubName: z.string(),
  creationUrls: z.object({ createNewInstancePostUri: z.string(), createAndWaitOnNewInstancePostUri: z.string() }),
  managementUrls: z.object({
    id: z.string(),
    statusQueryGetUri: z.string(),
    sendEventPostUri: z.string(),
    terminatePostUri: z.string(),
    rewindPostUri: z.string(),
    purgeHistoryDeleteUri: z.string(),
    restartPostUri: z.string(),
    suspendPostUri: z.string(),
    resumePostUri: z.string(),
  }),
  baseUrl: z.string(),
  requiredQueryStringParameters: z.string(),
  rpcBaseUrl: z.string(),
});
export type DurableClientPayload = z.infer<typeof durableClientPayloadSchema>;

/** The placeholder the extension puts where the instance id goes in management URLs. */
export const instanceIdPlaceholder = 'INSTANCEID';

/**
 * Builds the durable client binding so `df.getClient(context)` and the real DurableClient work
 * unchanged. `origin` is the host's public origin (e.g. `http://127.0.0.1:7071`). Every URL
 * carries the key as `code=<systemKey>`, as on Azure, because the management API requires it.
 *
 * `rpcBaseUrl` is left empty. On Azure it points at the extension's own listener on the
 * worker's loopback interface, which takes no key; the JS client builds its calls from it with
 * `new URL(path, rpcBaseUrl)`, which drops any query string, so it cannot carry the key. Without
 * it the client calls the creation and management URLs above (the extension's webhook mode),
 * which do: every call of the app's own functions presents the key.
 */
export function durableClientPayload(args: {
  origin: string;
  taskHubName: string;
  connectionName?: string;
  systemKey: string;
}): DurableClientPayload {
  const origin = args.origin.replace(/\/+$/, '');
  const baseUrl = `${origin}${durableApiBasePath}`;
  const required = `code=${encodeURIComponent(args.systemKey)}`;
  const query = [
    `taskHub=${encodeURIComponent(args.taskHubName)}`,
    `connection=${encodeURIComponent(args.connectionName ?? 'Storage')}`,
    required,
  ].join('&');
  const instance = `${baseUrl}/instances/${instanceIdPlaceholder}`;
  return {
    taskHubName: args.taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?${query}`,
      createAndWaitOnNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${query}`,
    },
    managementUrls: {
      id: instanceIdPlaceholder,
      statusQueryGetUri: `${instance}?${query}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${query}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${query}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${query}`,
      purgeHistoryDeleteUri: `${instance}?${query}`,
      restartPostUri: `${instance}/restart?${query}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${query}`,
      resumePostUri: `${instance}/resume?reason={text}&${query}`,
    },
    baseUrl,
    requiredQueryStringParameters: required,
    rpcBaseUrl: '',
  };
}

/** The management links for one instance (the body of a check-status response). */
export function managementLinks(payload: DurableClientPayload, instanceId: string): Record<string, string> {
  const encoded = encodeURIComponent(instanceId);
  const links: Record<string, string> = { id: instanceId };
  for (const [key, value] of Object.entries(payload.managementUrls)) {
    if (key === 'id' || key === 'rewindPostUri') continue;
    links[key] = value.replace(instanceIdPlaceholder, encoded);
  }
  return links;
}
