/**
 * devhost's Durable Functions extension: a persistent task hub (SQLite) that replays the app's
 * orchestrators through the durable-functions SDK, runs their activities, timers, events and
 * sub-orchestrations, and serves the extension's management API. See docs/devhost-durable.md.
 *
 * Wiring (what `devhost/start.ts` does):
 *   const engine = new DurableEngine({ storePath: '.local/durable/taskhub.sqlite', invoker: workerInvoker(worker) });
 *   const api = createDurableHttpApi(engine);
 *   worker.setInputBindingProvider('durableClient', () => api.clientPayload('http://127.0.0.1:7071'));
 *   server: if (api.handles(req.url)) return api.handle(req, res);
 *   engine.start(); ... await engine.stop();
 */
export type { AtomicAction, OrchestratorState, RetryOptions } from './actions';
export { ActionType, flattenActions } from './actions';
export type { DurableClientPayload } from './client-payload';
export { durableApiBasePath, durableClientPayload, durableClientPayloadSchema } from './client-payload';
export type { DurableEngineOptions, OperationOutcome } from './engine';
export { DurableEngine, InstanceExistsError, InvalidInstanceIdError, invalidInstanceIdReason, UnknownOrchestrationError } from './engine';
export type { HistoryEvent } from './history';
export { EventType, history } from './history';
export type { DurableHttpApi, DurableHttpApiOptions } from './http-api';
export { createDurableHttpApi } from './http-api';
export type { ActivityInvocationMeta, DurableFunctionInvoker, OrchestrationTriggerInput } from './invoker';
export type { Instance, RuntimeStatus } from './store';
export { isTerminal } from './store';
export { workerInvoker } from './worker-invoker';
