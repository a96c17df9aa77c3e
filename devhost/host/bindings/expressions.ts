import { randomUUID } from 'node:crypto';

import type { BindingData } from '../../worker';
import { resolveSettingRefs } from '../host-storage';

/**
 * Resolves a binding option as the host does: `%Setting%` from the app settings, then `{name}`
 * from the invocation's binding data (case-insensitive, dotted paths such as `{data.path}`), and
 * the system expressions `{rand-guid}`, `{DateTime}`, `{datetime:<format>}`, `{sys.randguid}`,
 * `{sys.utcnow}`. A name with no value fails the invocation with the WebJobs SDK's message
 * (`BindingTemplate.Bind`: "No value for named parameter 'x'.").
 */
export function resolveBindingExpression(template: string, bindingData: BindingData, env: NodeJS.ProcessEnv = process.env): string {
  const now = new Date();
  return resolveSettingRefs(template, env).replace(/\{([^{}]+)\}/g, (_, expression: string) => {
    const name = expression.trim();
    const lower = name.toLowerCase();
    if (lower === 'rand-guid' || lower === 'sys.randguid') return randomUUID();
    if (lower === 'datetime') return formatDateTime(now, "yyyy-MM-dd'T'HH-mm-ss'Z'");
    if (lower === 'sys.utcnow') return now.toISOString();
    if (lower.startsWith('datetime:')) return formatDateTime(now, name.slice('datetime:'.length));
    const value = lookup(bindingData, name);
    if (value === undefined || value === null) throw new Error(`No value for named parameter '${name}'.`);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

function lookup(data: BindingData, path: string): unknown {
  let current: unknown = data;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    const key = Object.keys(record).find((k) => k.toLowerCase() === part.toLowerCase());
    current = key === undefined ? undefined : record[key];
  }
  return current;
}

/** The .NET custom format tokens binding paths use (yyyy, MM, dd, HH, mm, ss, fff) and 'quoted' text, in UTC. */
function formatDateTime(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const tokens: Record<string, string> = {
    yyyy: String(date.getUTCFullYear()),
    MM: pad(date.getUTCMonth() + 1),
    dd: pad(date.getUTCDate()),
    HH: pad(date.getUTCHours()),
    mm: pad(date.getUTCMinutes()),
    ss: pad(date.getUTCSeconds()),
    fff: pad(date.getUTCMilliseconds(), 3),
  };
  return format.replace(/'([^']*)'|yyyy|MM|dd|HH|mm|ss|fff/g, (token, quoted: string | undefined) => quoted ?? tokens[token] ?? token);
}
