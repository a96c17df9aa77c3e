/**
 * devhost worker role: the in-process stand-in for the Azure Functions Node worker.
 *
 * API (what the HTTP/timer/blob triggers and the Durable engine call): `defaultWorker()` is the
 * process-wide {@link FunctionsWorker}; `loadApp(worker, appDir, main?)` installs the
 * `@azure/functions-core` module and requires the app's entry points (package.json `main`, a glob)
 * so every `app.*` / `df.app.*` registration and hook lands in the worker.
 * `worker.listFunctions()` / `worker.getFunction(name)` / `worker.functionsByTrigger('activityTrigger')`
 * return {@link FunctionInfo} (`name`, `trigger` binding with its `type` such as
 * `orchestrationTrigger`, `activityTrigger`, `entityTrigger`, `httpTrigger`, `inputs` such as
 * `{ type: 'durableClient' }`, `outputs`). `worker.invoke(name, { triggerValue, triggerData?,
 * triggerMetadata?, extraInputs? })` runs one invocation exactly as the real worker does (programming
 * model `getInvocationModel` -> `getArguments` -> preInvocation hooks -> `invokeFunction` ->
 * postInvocation hooks -> `getResponse`) and resolves to {@link InvokeResult} (`returnValue` decoded
 * to JavaScript, `http` response if any, named `outputs`), or rejects with the handler's own error.
 * `triggerValue` is sent as JSON so it round-trips exactly (an orchestrator gets the object
 * `{ history, input, instanceId, isReplaying, ... }`; an activity gets its input); use `triggerData`
 * to send raw RPC data. Input bindings the caller does not pass come from providers:
 * `worker.setInputBindingProvider('durableClient', ({ functionName }) => payload)` is how the Durable
 * engine supplies the client binding to every function that declares it. `worker.start(appDir)` /
 * `worker.terminate()` run the appStart / appTerminate hooks; `worker.setLogSink(fn)` redirects
 * the log lines (one per invocation: function, trigger, duration, outcome).
 * `worker.capabilities()` is what the worker reports to the host after loading the app (with
 * `HttpUri` when the app enabled HTTP streams: the host then forwards HTTP requests there).
 */
import { FunctionsWorker } from './worker';

export type { Disposable, FunctionCallback, FunctionMetadata, RpcBindingInfo, RpcTypedData } from './core-types';
export { CORE_MODULE_ID, entryPoints, installCoreModule, loadApp } from './load-app';
export type { HttpResponseData } from './typed-data';
export { fromTypedData, toTypedData } from './typed-data';
export type {
  BindingData,
  FunctionInfo,
  InputBindingProvider,
  InvokeRequest,
  InvokeResult,
  OutputBindingHandler,
  WorkerLogEntry,
  WorkerLogSink,
} from './worker';
export { formatLogEntry, FunctionsWorker, HOST_VERSION, WORKER_CAPABILITIES, WORKER_VERSION } from './worker';

let processWorker: FunctionsWorker | undefined;

/**
 * The worker `@azure/functions-core` resolves to in this process (or Jest module registry). The
 * `@azure/functions` package registers its programming model once per load, so one worker per
 * process is what keeps registrations and the programming model together.
 */
export function defaultWorker(): FunctionsWorker {
  processWorker ??= new FunctionsWorker();
  return processWorker;
}
