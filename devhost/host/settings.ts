import fs from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { configSchema } from '../../shared/config';
import { parseJsonText } from '../../shared/domain/json-text';
import { StartupError } from '../startup-error';

const localSettingsSchema = z.object({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  Host: z
    .object({ LocalHttpPort: z.number().int().optional(), CORS: z.string().optional() })
    .partial()
    .optional(),
});
/** `local.settings.json` as Core Tools reads it: `Values` become environment variables. */
export type LocalSettings = z.infer<typeof localSettingsSchema>;

const hostJsonSchema = z.object({
  version: z.string().optional(),
  extensions: z
    .object({
      http: z.object({ routePrefix: z.string().optional() }).partial().optional(),
      queues: z.object({ messageEncoding: z.enum(['base64', 'none']).optional() }).partial().optional(),
      durableTask: z.record(z.string(), z.unknown()).optional(),
      serviceBus: z
        .object({
          maxConcurrentCalls: z.number().int().positive(),
          maxAutoLockRenewalDuration: z.string().regex(/^\d{2}:\d{2}:\d{2}$/, 'a time span hh:mm:ss'),
        })
        .partial()
        .optional(),
    })
    .partial()
    .optional(),
  functionTimeout: z.string().optional(),
});
/** The parts of host.json devhost honours. */
export type HostJson = z.infer<typeof hostJsonSchema>;

function readJson(file: string): unknown {
  try {
    // A byte order mark (Notepad, PowerShell's Out-File) is not JSON, but Core Tools reads past it.
    return parseJsonText(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StartupError(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Reads `local.settings.json` if present, else `local.settings.sample.json`, from `appDir`.
 * Returns the file used (undefined if neither exists) and the settings.
 */
export function readLocalSettings(appDir: string): { file?: string; settings: LocalSettings } {
  for (const name of ['local.settings.json', 'local.settings.sample.json']) {
    const file = path.join(appDir, name);
    if (!fs.existsSync(file)) continue;
    const parsed = localSettingsSchema.safeParse(readJson(file));
    if (!parsed.success) throw new StartupError(`${file}: ${z.prettifyError(parsed.error)}`);
    return { file, settings: parsed.data };
  }
  return { settings: { Values: {} } };
}

/**
 * Puts local settings into `env` as the host does. Values already set in the environment win, so
 * a shell override (or a test's service address) is not clobbered by the file.
 */
export function applyLocalSettings(settings: LocalSettings, env: NodeJS.ProcessEnv = process.env): void {
  for (const [key, value] of Object.entries(settings.Values)) {
    if (env[key] === undefined) env[key] = String(value);
  }
}

/** The host's port when nothing names one, as Core Tools'. */
export const DEFAULT_HOST_PORT = 7071;

/**
 * The host's HTTP port: `--port`, else DEVHOST_PORT from the shell, else from local settings'
 * `Values` (a setting like the others: the shell wins), else their `Host.LocalHttpPort` (Core
 * Tools' place for it), else 7071. One that is no port (0: any free one) is refused, naming where
 * it came from.
 */
export function hostPortOf(option: string | undefined, env: NodeJS.ProcessEnv, settings: LocalSettings): number {
  const sources: Array<[string, string | number | boolean | undefined]> = [
    ['--port', option],
    ['DEVHOST_PORT', env.DEVHOST_PORT],
    ['DEVHOST_PORT in local settings', settings.Values.DEVHOST_PORT],
    ['Host.LocalHttpPort in local settings', settings.Host?.LocalHttpPort],
  ];
  const [from, value] = sources.find(([, v]) => v !== undefined) ?? ['default', DEFAULT_HOST_PORT];
  const text = String(value).trim();
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535) throw new StartupError(`${from} must be a port number from 0 to 65535 (0: any free one), not "${String(value)}"`);
  return port;
}

/** Settings something reads locally: the app's (shared/config.ts), devhost's and the host's. */
const KNOWN_SETTINGS = [
  ...Object.keys(configSchema.shape),
  'DEVHOST_PORT',
  'DEVHOST_FUNCTION_KEY',
  'DEVHOST_MASTER_KEY',
  'DEVHOST_IDENTITIES',
  'DEVHOST_MAX_REQUEST_BODY_BYTES',
  'TASK_HUB_NAME',
  'FUNCTIONS_WORKER_RUNTIME',
  'AzureWebJobsStorage',
  'ServiceBusConnection',
];

/** Edits (insert, delete, replace, swap of neighbours) from `a` to `b`, or more than `max` once that is certain. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Local settings that look like a misspelt known one (a case slip or up to two edits away): nothing
 * reads them, so the app silently runs on the default. Any other name passes: app settings may
 * hold anything (a binding's connection, `AzureWebJobs.<fn>.Disabled`, the platform's own).
 */
export function misspeltSettings(settings: LocalSettings, known: readonly string[] = KNOWN_SETTINGS): Array<{ name: string; meant: string }> {
  const found: Array<{ name: string; meant: string }> = [];
  for (const name of Object.keys(settings.Values)) {
    if (known.includes(name)) continue;
    const meant = known.find((k) => k.toUpperCase() === name.toUpperCase() || distance(k.toUpperCase(), name.toUpperCase(), 2) <= 2);
    if (meant !== undefined) found.push({ name, meant });
  }
  return found;
}

export function readHostJson(appDir: string): HostJson {
  const file = path.join(appDir, 'host.json');
  if (!fs.existsSync(file)) return {};
  const parsed = hostJsonSchema.safeParse(readJson(file));
  if (!parsed.success) throw new StartupError(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * What the Service Bus triggers take from host.json `extensions.serviceBus`, as the extension
 * does: concurrent calls per function, and how long a message lock is renewed while its handler
 * runs (the SDK's own default, 5 minutes, when host.json does not say).
 */
export function serviceBusOptionsOf(hostJson: HostJson): { maxConcurrentCalls?: number; maxAutoLockRenewalDurationMs?: number } {
  const options = hostJson.extensions?.serviceBus ?? {};
  const span = options.maxAutoLockRenewalDuration?.split(':').map(Number);
  return {
    ...(options.maxConcurrentCalls !== undefined ? { maxConcurrentCalls: options.maxConcurrentCalls } : {}),
    ...(span ? { maxAutoLockRenewalDurationMs: ((span[0]! * 60 + span[1]!) * 60 + span[2]!) * 1000 } : {}),
  };
}

/** host.json `extensions.http.routePrefix` (default `api`; an empty string means no prefix). */
export function routePrefixOf(hostJson: HostJson): string {
  const prefix = hostJson.extensions?.http?.routePrefix;
  return (prefix ?? 'api').replace(/^\/+|\/+$/g, '');
}
