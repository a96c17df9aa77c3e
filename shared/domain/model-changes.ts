/**
 * Updating a model's definition: a JSON merge patch (RFC 7396) applied to it, and the changes it
 * made, one per changed leaf, as the audit ledger records them.
 */

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * RFC 7396: an object patch merges member by member, `null` removes the member, any other value
 * (arrays included) replaces the target whole. The target is not changed.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    // Defined, not assigned: a member named `__proto__` (JSON.parse makes one) must stay a member,
    // for validation to refuse it by name, not become the result's prototype and vanish.
    else Object.defineProperty(result, key, { value: applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** One changed leaf of a definition: its dotted path and the values before and after (absent: it had none). */
export interface DefinitionChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

/**
 * Where two definitions differ, leaf by leaf, in a stable order (by path). Objects are walked;
 * arrays and scalars are leaves, compared as JSON, since a merge patch replaces an array whole.
 */
export function definitionChanges(before: unknown, after: unknown, prefix = ''): DefinitionChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => definitionChanges(before[key], after[key], prefix === '' ? key : `${prefix}.${key}`));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: prefix, ...(before === undefined ? {} : { from: before }), ...(after === undefined ? {} : { to: after }) }];
}

/**
 * The JSON a change's `from` or `to` may take on the ledger. An event is one Service Bus message
 * (256 KB) and a definition is up to 1 MiB: a long owner list or drift override list replaced
 * whole is recorded as a preview of its JSON, with `truncated`, instead of making the entry too
 * large to publish (and, published first, to append). The stored definition has it all.
 */
export const MAX_CHANGE_VALUE_CHARS = 1000;
const PREVIEW_CHARS = 200;

/** A change as the ledger records it: values over MAX_CHANGE_VALUE_CHARS of JSON replaced by a preview. */
export function boundedChange(change: DefinitionChange): DefinitionChange & { truncated?: true } {
  let truncated = false;
  const bound = (value: unknown): unknown => {
    const json = JSON.stringify(value);
    if (json.length <= MAX_CHANGE_VALUE_CHARS) return value;
    truncated = true;
    return `${previewOf(json)}… (${json.length} characters of JSON)`;
  };
  const bounded = {
    path: change.path,
    ...('from' in change ? { from: bound(change.from) } : {}),
    ...('to' in change ? { to: bound(change.to) } : {}),
  };
  return truncated ? { ...bounded, truncated: true } : bounded;
}

/**
 * The first PREVIEW_CHARS of `json`, one fewer when that would cut a surrogate pair in two (an
 * emoji is two UTF-16 units): half a pair is not Unicode, and the ledger entry and the event
 * (UTF-8 on Service Bus) would carry a character the value never had.
 */
function previewOf(json: string): string {
  const last = json.charCodeAt(PREVIEW_CHARS - 1);
  return json.slice(0, last >= 0xd800 && last <= 0xdbff ? PREVIEW_CHARS - 1 : PREVIEW_CHARS);
}
