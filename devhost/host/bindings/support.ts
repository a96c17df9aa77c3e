import type { FunctionInfo, FunctionsWorker } from '../../worker';

/** A binding devhost cannot honour: its data would be lost (output) or never arrive (input). */
export interface UnsupportedBinding {
  functionName: string;
  bindingName: string;
  type: string;
  direction: 'in' | 'out';
}

/**
 * Every non-trigger binding the worker has no provider (input) or handler (output) for, except
 * input types in `exempt` (a host without the Durable extension lets `durableClient` through:
 * `df.getClient` then fails loudly in the function, nothing is lost).
 */
export function unsupportedBindings(worker: FunctionsWorker, exempt: readonly string[] = []): UnsupportedBinding[] {
  const isExempt = (type: unknown) => exempt.some((t) => t.toLowerCase() === String(type).toLowerCase());
  return worker.listFunctions().flatMap((fn) => [
    ...fn.inputs
      .filter((b) => !worker.canProvideInput(b.type) && !isExempt(b.type))
      .map((b) => ({ functionName: fn.name, bindingName: b.name, type: String(b.type), direction: 'in' as const })),
    ...fn.outputs
      .filter((b) => !worker.canWriteOutput(b.type))
      .map((b) => ({ functionName: fn.name, bindingName: b.name, type: String(b.type), direction: 'out' as const })),
  ]);
}

export class UnsupportedBindingsError extends Error {
  constructor(readonly bindings: UnsupportedBinding[]) {
    super(
      [
        `devhost cannot honour ${bindings.length} binding(s), so it refuses to start rather than drop their data:`,
        ...bindings.map(
          (b) => `  function '${b.functionName}': ${b.direction === 'out' ? 'output' : 'input'} binding '${b.bindingName}' (type ${b.type})`,
        ),
        'Supported locally: outputs http, blob, queue, table, cosmosDB, serviceBus; inputs blob, durableClient.',
        'Use the service SDK from the function instead (see docs/devhost.md, "Differences from Azure").',
      ].join('\n'),
    );
    this.name = 'UnsupportedBindingsError';
  }
}

/** Throws {@link UnsupportedBindingsError} naming every binding devhost cannot honour. */
export function assertBindingsSupported(worker: FunctionsWorker, exempt: readonly string[] = []): void {
  const bindings = unsupportedBindings(worker, exempt);
  if (bindings.length > 0) throw new UnsupportedBindingsError(bindings);
}

/** Why a function with that trigger type does not run under devhost, or undefined when it does. */
export function unservedReason(fn: FunctionInfo, servedTriggerTypes: readonly string[]): string | undefined {
  const type = String(fn.trigger.type);
  if (type.toLowerCase() === 'entitytrigger') {
    return `${fn.name}: durable entity NOT supported by devhost (callEntity, signalEntity and entity client calls fail with a clear error)`;
  }
  if (servedTriggerTypes.some((t) => t.toLowerCase() === type.toLowerCase())) return undefined;
  return `${fn.name}: ${type} NOT served by devhost (no local trigger for it)`;
}
