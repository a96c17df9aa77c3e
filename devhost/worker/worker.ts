import { randomUUID } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';
import type { Server } from 'node:net';
import { format } from 'node:util';

import type {
  CoreInvocationContext,
  Disposable,
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookName,
  InvocationState,
  ProgrammingModel,
  RpcBindingInfo,
  RpcInvocationRequest,
  RpcLogCategory,
  RpcLogLevel,
  RpcParameterBinding,
  RpcTypedData,
} from './core-types';
import { fromTypedData, type HttpResponseData, toTypedData, toTypedMetadata } from './typed-data';

/** Version strings the core module reports (the worker and host versions devhost stands in for). */
export const WORKER_VERSION = '3.10.1-devhost';
export const HOST_VERSION = '4.1037.0-devhost';

/**
 * What the Node worker itself tells the host it can do (azure-functions-nodejs-worker
 * `getWorkerCapabilities`), before the programming model adds its own (e.g. `HttpUri`).
 */
export const WORKER_CAPABILITIES: Readonly<Record<string, string>> = {
  RawHttpBodyBytes: 'true',
  RpcHttpTriggerMetadataRemoved: 'true',
  RpcHttpBodyOnly: 'true',
  IgnoreEmptyValuedRpcHttpHeaders: 'true',
  UseNullableValueDictionaryForHttp: 'true',
  WorkerStatus: 'true',
  TypedDataCollection: 'true',
  HandlesWorkerTerminateMessage: 'true',
};

/** A registered function: its name, trigger binding and every binding as `@azure/functions` declared it. */
export interface FunctionInfo {
  name: string;
  /** The trigger binding's name (key in `bindings`). */
  triggerName: string;
  /** The trigger binding: `type` (e.g. `httpTrigger`, `orchestrationTrigger`), options such as `route`, `path`. */
  trigger: RpcBindingInfo;
  /** Every binding keyed by name; the return binding is `$return`. */
  bindings: Record<string, RpcBindingInfo>;
  /** Extra input bindings (direction `in`, not the trigger), e.g. `{ type: 'durableClient' }`. */
  inputs: Array<RpcBindingInfo & { name: string }>;
  /** Output bindings (direction `out`), including `$return` when present. */
  outputs: Array<RpcBindingInfo & { name: string }>;
}

interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  info: FunctionInfo;
}

/** What to invoke a function with. */
export interface InvokeRequest {
  /** The trigger value as JavaScript; encoded as JSON (bytes for Buffers) so it round-trips exactly. */
  triggerValue?: unknown;
  /** The trigger value as raw RPC data, exactly as the host would send it; wins over `triggerValue`. */
  triggerData?: RpcTypedData;
  /** Trigger metadata as JavaScript values (strings are sent as `string`, others as `json`). */
  triggerMetadata?: Record<string, unknown>;
  /** Values for extra input bindings, by binding name; bindings without a value use the providers. */
  extraInputs?: Record<string, unknown>;
  invocationId?: string;
  retryContext?: { retryCount: number; maxRetryCount: number };
  /** The invocation's W3C trace context, as the host sets it from the trigger (e.g. a message's `Diagnostic-Id`); a fresh one when absent. */
  traceParent?: string;
  /** Do not write the per-invocation log line (e.g. bulk activity runs that log elsewhere). */
  quiet?: boolean;
}

/** What an invocation produced. A handler that throws makes `invoke` reject with its error instead. */
export interface InvokeResult {
  invocationId: string;
  /** The decoded return value (for HTTP triggers the `$return` HTTP binding is in `http`). */
  returnValue: unknown;
  /** The HTTP response when the function has an HTTP output binding (`$return` or named). */
  http?: HttpResponseData;
  /** Decoded values of named output bindings set through `context.extraOutputs`. */
  outputs: Record<string, unknown>;
  durationMs: number;
}

/**
 * What the host knows about an invocation for resolving binding expressions (`{name}`): the
 * trigger metadata plus, as the host's `Utility.ApplyBindingData` does for a JSON trigger value,
 * the value's top-level properties (arrays excluded).
 */
export type BindingData = Record<string, unknown>;

/** Supplies the value of an input binding type the worker does not read itself (e.g. `durableClient`, `blob`). */
export type InputBindingProvider = (request: {
  functionName: string;
  bindingName: string;
  binding: RpcBindingInfo;
  bindingData: BindingData;
}) => unknown;

/**
 * Writes one output binding's value after a successful invocation (blob, queue, Service Bus, ...).
 * A rejection fails the invocation, as a failed output binding does on Azure.
 */
export type OutputBindingHandler = (write: {
  functionName: string;
  bindingName: string;
  binding: RpcBindingInfo;
  /** The decoded value: string, Buffer, number, or the parsed JSON (object, array). */
  value: unknown;
  bindingData: BindingData;
}) => Promise<void>;

/** One log entry: user logs from `context.log`, system logs, and one `invocation` line per call. */
export interface WorkerLogEntry {
  level: RpcLogLevel;
  category: RpcLogCategory | 'invocation';
  functionName?: string;
  invocationId?: string;
  message: string;
}

export type WorkerLogSink = (entry: WorkerLogEntry) => void;

const isTrigger = (type: string | null | undefined): boolean => !!type && /trigger$/i.test(type);

/**
 * The Node worker's part of the Functions runtime, in process: the `@azure/functions-core` module
 * (`coreApi`), the captured registrations and hooks, and the invocation pipeline
 * (`getInvocationModel` -> `getArguments` -> preInvocation hooks -> `invokeFunction` ->
 * postInvocation hooks -> `getResponse`) the real worker runs for each invocation request.
 */
export class FunctionsWorker {
  readonly #functions = new Map<string, RegisteredFunction>();
  readonly #hooks = new Map<HookName, HookCallback[]>();
  readonly #inputProviders = new Map<string, InputBindingProvider>();
  readonly #outputHandlers = new Map<string, OutputBindingHandler>();
  #programmingModel: ProgrammingModel | undefined;
  readonly appHookData: Record<string, unknown> = {};
  #logSink: WorkerLogSink = defaultLogSink;
  #started = false;
  #capabilities: Promise<Record<string, string>> | undefined;

  /** The object `require('@azure/functions-core')` returns. */
  readonly coreApi = {
    version: WORKER_VERSION,
    hostVersion: HOST_VERSION,
    registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback): Disposable =>
      this.registerFunction(metadata, callback),
    registerHook: (hookName: HookName, callback: HookCallback): Disposable => this.registerHook(hookName, callback),
    setProgrammingModel: (model: ProgrammingModel): void => {
      this.#programmingModel = model;
    },
    getProgrammingModel: (): ProgrammingModel | undefined => this.#programmingModel,
    log: (level: RpcLogLevel, category: RpcLogCategory, message: string): void =>
      this.#logSink({ level, category, message }),
    Disposable: DisposableImpl,
  };

  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    const name = metadata.name;
    if (this.#functions.has(name)) {
      throw new Error(`A function named "${name}" is already registered.`);
    }
    this.#functions.set(name, { metadata, callback, info: describe(metadata) });
    return new DisposableImpl(() => this.#functions.delete(name));
  }

  registerHook(hookName: HookName, callback: HookCallback): Disposable {
    const list = this.#hooks.get(hookName) ?? [];
    list.push(callback);
    this.#hooks.set(hookName, list);
    return new DisposableImpl(() => {
      const at = list.indexOf(callback);
      if (at >= 0) list.splice(at, 1);
    });
  }

  /** Where log lines go (default: one readable line on stdout/stderr). */
  setLogSink(sink: WorkerLogSink): void {
    this.#logSink = sink;
  }

  /** Supplies values for an input binding type (matched case-insensitively), e.g. `durableClient`. */
  setInputBindingProvider(type: string, provider: InputBindingProvider): Disposable {
    const key = type.toLowerCase();
    this.#inputProviders.set(key, provider);
    return new DisposableImpl(() => {
      if (this.#inputProviders.get(key) === provider) this.#inputProviders.delete(key);
    });
  }

  /** Writes the values of an output binding type (matched case-insensitively), e.g. `blob`. */
  setOutputBindingHandler(type: string, handler: OutputBindingHandler): Disposable {
    const key = type.toLowerCase();
    this.#outputHandlers.set(key, handler);
    return new DisposableImpl(() => {
      if (this.#outputHandlers.get(key) === handler) this.#outputHandlers.delete(key);
    });
  }

  /** Whether the worker can supply an input binding of that type (a provider is set). */
  canProvideInput(type: string | null | undefined): boolean {
    return this.#inputProviders.has(String(type).toLowerCase());
  }

  /** Whether values of an output binding of that type get written (HTTP always: it is the response). */
  canWriteOutput(type: string | null | undefined): boolean {
    const key = String(type).toLowerCase();
    return key === 'http' || this.#outputHandlers.has(key);
  }

  /** Every registered function with its bindings. */
  listFunctions(): FunctionInfo[] {
    return [...this.#functions.values()].map((f) => f.info);
  }

  getFunction(name: string): FunctionInfo | undefined {
    return this.#functions.get(name)?.info;
  }

  /** Functions whose trigger type matches (case-insensitive), e.g. `activityTrigger`. */
  functionsByTrigger(type: string): FunctionInfo[] {
    const wanted = type.toLowerCase();
    return this.listFunctions().filter((f) => f.trigger.type?.toLowerCase() === wanted);
  }

  /** Runs the appStart hooks once (the real worker runs them before the first invocation). */
  async start(functionAppDirectory: string): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#runHooks('appStart', { hookData: {}, appHookData: this.appHookData, functionAppDirectory });
  }

  /**
   * The capabilities the worker reports to the host once the app is loaded: the worker's own, as
   * the programming model's `getCapabilities` extends them. `@azure/functions` adds `HttpUri`
   * there when the app enabled HTTP streams (starting its proxy server) and locks `app.setup`, so
   * this is asked once and the answer kept, as the worker answers the host's init request once.
   */
  capabilities(): Promise<Record<string, string>> {
    this.#capabilities ??= (async () => {
      const own = { ...WORKER_CAPABILITIES };
      const model = this.#programmingModel;
      if (!model?.getCapabilities) return own;
      const listening = serversStartedDuring(() => model.getCapabilities!(own));
      const capabilities = { ...(await listening.result) };
      // The real worker process ends with its host; in process, the proxy server must not keep a
      // stopped devhost (or a test run) alive. Nothing else can close it: the library keeps it.
      if (capabilities.HttpUri) {
        const port = Number(new URL(capabilities.HttpUri).port);
        listening.servers.filter((s) => portOf(s) === port).forEach((s) => s.unref());
      }
      return capabilities;
    })();
    return this.#capabilities;
  }

  /** Runs the appTerminate hooks (the real worker runs them when the host shuts it down). */
  async terminate(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#runHooks('appTerminate', { hookData: {}, appHookData: this.appHookData });
  }

  /** Invokes a registered function through the programming model, as the Node worker does. */
  async invoke(name: string, request: InvokeRequest = {}): Promise<InvokeResult> {
    const registered = this.#functions.get(name);
    if (!registered) throw new Error(`Function "${name}" is not registered.`);
    const model = this.#programmingModel;
    if (!model) throw new Error('No programming model was set: has @azure/functions been loaded?');

    const started = performance.now();
    const invocationId = request.invocationId ?? randomUUID();
    const bindingData = bindingDataOf(registered.info, request);
    const rpcRequest: RpcInvocationRequest = {
      invocationId,
      functionId: registered.metadata.functionId ?? name,
      inputData: await this.#inputData(registered, request, bindingData),
      triggerMetadata: toRpcMetadata(request.triggerMetadata),
      traceContext: { traceParent: request.traceParent ?? traceParent(), traceState: '', attributes: {} },
      retryContext: request.retryContext ?? null,
    };
    const coreCtx = new CoreContext(invocationId, rpcRequest, registered.metadata, (level, category, message) =>
      this.#logSink({ level, category, message, functionName: name, invocationId }),
    );

    let outcome = 'Succeeded';
    try {
      const invocationModel = model.getInvocationModel(coreCtx);
      const { context, inputs: initialInputs } = await invocationModel.getArguments();
      const hookData: Record<string, unknown> = {};

      const pre = {
        hookData,
        appHookData: this.appHookData,
        invocationContext: context,
        inputs: initialInputs,
        functionCallback: registered.callback,
      };
      await this.#runHooks('preInvocation', pre, coreCtx, 'preInvocationHooks');

      const post = {
        hookData,
        appHookData: this.appHookData,
        invocationContext: context,
        inputs: pre.inputs,
        result: null as unknown,
        error: null as unknown,
      };
      coreCtx.state = 'invocation';
      try {
        post.result = await invocationModel.invokeFunction(context, pre.inputs, pre.functionCallback);
      } catch (err) {
        post.error = err;
      } finally {
        coreCtx.state = undefined;
      }
      await this.#runHooks('postInvocation', post, coreCtx, 'postInvocationHooks');
      // The handler's own error, whatever it is, is what the caller must see (as the worker reports it).
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (post.error != null) throw post.error;

      const response = await invocationModel.getResponse(context, post.result);
      const decoded = decodeResponse(registered.info, response);
      await this.#writeOutputs(registered.info, decoded, bindingData);
      return { invocationId, durationMs: performance.now() - started, ...decoded };
    } catch (err) {
      outcome = `Failed: ${err instanceof Error ? err.message : String(err)}`;
      throw err;
    } finally {
      if (!request.quiet) {
        const ms = Math.round(performance.now() - started);
        this.#logSink({
          level: outcome === 'Succeeded' ? 'information' : 'error',
          category: 'invocation',
          functionName: name,
          invocationId,
          message: `Executed '${name}' (${registered.info.trigger.type}, ${ms} ms) ${outcome.split('\n')[0]}`,
        });
      }
    }
  }

  async #inputData(
    registered: RegisteredFunction,
    request: InvokeRequest,
    bindingData: BindingData,
  ): Promise<RpcParameterBinding[]> {
    const { info } = registered;
    // The host sends one entry per input binding, an empty TypedData when the value is null
    // (azure-functions-host ScriptInvocationContextExtensions.ToRpcInvocationRequest; ToRpc maps
    // null to `new TypedData()`), so the handler always gets `(input, context)`: an activity
    // called without input gets `(undefined, context)`, not the context as its input.
    const noValue: RpcTypedData = {};
    const triggerData = request.triggerData ?? toTypedData(request.triggerValue) ?? noValue;
    const data: RpcParameterBinding[] = [{ name: info.triggerName, data: triggerData }];
    for (const input of info.inputs) {
      let value: unknown;
      if (request.extraInputs && input.name in request.extraInputs) {
        value = request.extraInputs[input.name];
      } else {
        const provider = this.#inputProviders.get(String(input.type).toLowerCase());
        if (!provider) continue;
        value = await provider({ functionName: info.name, bindingName: input.name, binding: input, bindingData });
      }
      data.push({ name: input.name, data: toTypedData(value) ?? noValue });
    }
    return data;
  }

  /**
   * Writes every output binding that got a value, after the handler succeeded, in parallel (the
   * host's `WorkerFunctionInvoker.BindOutputsAsync`: bindings whose value is null are skipped).
   */
  async #writeOutputs(
    info: FunctionInfo,
    decoded: Pick<InvokeResult, 'returnValue' | 'outputs'>,
    bindingData: BindingData,
  ): Promise<void> {
    const writes = info.outputs.flatMap((output) => {
      const type = String(output.type).toLowerCase();
      if (type === 'http') return [];
      const value = output.name === '$return' ? decoded.returnValue : decoded.outputs[output.name];
      if (value == null) return [];
      const handler = this.#outputHandlers.get(type);
      if (!handler) {
        throw new Error(`Function '${info.name}': output binding '${output.name}' (${output.type}) is not supported by devhost; its value would be lost.`);
      }
      return [handler({ functionName: info.name, bindingName: output.name, binding: output, value, bindingData })];
    });
    await Promise.all(writes);
  }

  async #runHooks(
    name: HookName,
    context: Record<string, unknown>,
    coreCtx?: CoreContext,
    state?: InvocationState,
  ): Promise<void> {
    const hooks = this.#hooks.get(name);
    if (!hooks?.length) return;
    if (coreCtx) coreCtx.state = state;
    try {
      for (const hook of [...hooks]) await hook(context);
    } finally {
      if (coreCtx) coreCtx.state = undefined;
    }
  }
}

/** Runs `work`, noting the servers that start listening meanwhile (Node's `net.server.listen` tracing channel). */
function serversStartedDuring<T>(work: () => Promise<T>): { result: Promise<T>; servers: Server[] } {
  const servers: Server[] = [];
  const channel = tracingChannel<object, { server: Server }>('net.server.listen');
  const subscriber = {
    start: () => undefined,
    end: () => undefined,
    asyncStart: ({ server }: { server: Server }) => void servers.push(server),
    asyncEnd: () => undefined,
    error: () => undefined,
  };
  channel.subscribe(subscriber);
  const result = work().finally(() => channel.unsubscribe(subscriber));
  return { result, servers };
}

function portOf(server: Server): number | undefined {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : undefined;
}

class CoreContext implements CoreInvocationContext {
  state?: InvocationState;
  constructor(
    readonly invocationId: string,
    readonly request: RpcInvocationRequest,
    readonly metadata: FunctionMetadata,
    readonly log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => void,
  ) {}
}

class DisposableImpl implements Disposable {
  #callOnDispose: (() => unknown) | undefined;
  static from(...likes: Array<{ dispose: () => unknown }>): DisposableImpl {
    return new DisposableImpl(() => likes.forEach((l) => l.dispose()));
  }
  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }
  dispose(): void {
    this.#callOnDispose?.();
    this.#callOnDispose = undefined;
  }
}

function describe(metadata: FunctionMetadata): FunctionInfo {
  const entries = Object.entries(metadata.bindings);
  const triggerEntry = entries.find(([, b]) => isTrigger(b.type));
  if (!triggerEntry) throw new Error(`Function "${metadata.name}" has no trigger binding.`);
  const [triggerName, trigger] = triggerEntry;
  return {
    name: metadata.name,
    triggerName,
    trigger,
    bindings: metadata.bindings,
    inputs: entries
      .filter(([n, b]) => n !== triggerName && b.direction === 'in')
      .map(([n, b]) => ({ ...b, name: n })),
    outputs: entries.filter(([, b]) => b.direction === 'out').map(([n, b]) => ({ ...b, name: n })),
  };
}

/**
 * Binding data for one invocation: the trigger metadata, then the top-level non-array properties
 * of a JSON object trigger value (azure-functions-host `Utility.ApplyBindingData`, called from
 * `WorkerFunctionInvoker.TransformInput`). Activity triggers also bind `data` and the trigger's
 * name to the input (durable extension `ActivityTriggerAttributeBindingProvider.BindAsync`).
 */
function bindingDataOf(info: FunctionInfo, request: InvokeRequest): BindingData {
  const data: BindingData = { ...request.triggerMetadata };
  const value = request.triggerData ? undefined : request.triggerValue;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)) {
    for (const [key, property] of Object.entries(value)) {
      if (property != null && !Array.isArray(property)) data[key] = property;
    }
  }
  if (String(info.trigger.type).toLowerCase() === 'activitytrigger') {
    data.data = value;
    data[info.triggerName] = value;
  }
  return data;
}

function toRpcMetadata(metadata: Record<string, unknown> | undefined): Record<string, RpcTypedData> | null {
  if (!metadata) return null;
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, toTypedMetadata(v)]));
}

function decodeResponse(
  info: FunctionInfo,
  response: { returnValue?: RpcTypedData | null; outputData?: RpcParameterBinding[] | null },
): Pick<InvokeResult, 'returnValue' | 'http' | 'outputs'> {
  const outputs: Record<string, unknown> = {};
  let http: HttpResponseData | undefined;
  for (const out of response.outputData ?? []) {
    const value = fromTypedData(out.data);
    if (out.name) outputs[out.name] = value;
    if (out.data?.http && !http) http = value as HttpResponseData;
  }
  const returnValue = fromTypedData(response.returnValue);
  const returnBinding = info.bindings.$return;
  if (response.returnValue?.http && returnBinding?.type?.toLowerCase() === 'http') {
    http = returnValue as HttpResponseData;
  }
  return { returnValue, http, outputs };
}

function traceParent(): string {
  const hex = (n: number) => randomUUID().replace(/-/g, '').slice(0, n);
  return `00-${hex(32)}-${hex(16)}-01`;
}

/** One readable line for a log entry, or undefined for entries not worth showing (debug, system info). */
export function formatLogEntry(entry: WorkerLogEntry): string | undefined {
  if (entry.level === 'debug' || entry.level === 'trace' || entry.level === 'none') return undefined;
  if (entry.category === 'system' && entry.level === 'information') return undefined;
  const who = entry.functionName ? `[${entry.functionName}] ` : '';
  const line = entry.category === 'invocation' ? entry.message : `${who}${format(entry.message)}`;
  return `${new Date().toISOString().slice(11, 23)} ${line}`;
}

function defaultLogSink(entry: WorkerLogEntry): void {
  const line = formatLogEntry(entry);
  if (line === undefined) return;
  const out = entry.level === 'error' || entry.level === 'critical' || entry.level === 'warning' ? process.stderr : process.stdout;
  out.write(`${line}\n`);
}
