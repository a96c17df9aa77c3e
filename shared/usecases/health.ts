import { within } from '../domain/at-most';
import type { DependencyProbe } from '../ports/health';

export interface DependencyHealth {
  name: string;
  ok: boolean;
  /** Milliseconds until it answered or failed. */
  ms: number;
  error?: string;
}

/** Checks every dependency at once, each bounded by `timeoutMs`, and says which ones fail. */
export async function checkHealth(
  probes: readonly DependencyProbe[],
  timeoutMs = 5000,
): Promise<{ healthy: boolean; dependencies: DependencyHealth[] }> {
  const dependencies = await Promise.all(
    probes.map(async (probe): Promise<DependencyHealth> => {
      const started = Date.now();
      try {
        await within(timeoutMs, probe.check(), `no answer within ${timeoutMs} ms`);
        return { name: probe.name, ok: true, ms: Date.now() - started };
      } catch (error) {
        return { name: probe.name, ok: false, ms: Date.now() - started, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return { healthy: dependencies.every((d) => d.ok), dependencies };
}
