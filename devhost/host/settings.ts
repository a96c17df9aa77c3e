import fs from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

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
    return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as unknown;
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

export function readHostJson(appDir: string): HostJson {
  const file = path.join(appDir, 'host.json');
  if (!fs.existsSync(file)) return {};
  const parsed = hostJsonSchema.safeParse(readJson(file));
  if (!parsed.success) throw new StartupError(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** host.json `extensions.http.routePrefix` (default `api`; an empty string means no prefix). */
export function routePrefixOf(hostJson: HostJson): string {
  const prefix = hostJson.extensions?.http?.routePrefix;
  return (prefix ?? 'api').replace(/^\/+|\/+$/g, '');
}
