import { createHash } from 'node:crypto';

/**
 * `id` when it fits in `maxLength` characters; otherwise its head, `separator` and 40 hex digits
 * of the whole id's sha256. Deterministic, so an id used for deduplication (a Service Bus message
 * id, a durable instance id) still names the same thing every time it is made.
 */
export function boundedId(id: string, maxLength: number, separator: string): string {
  if (id.length <= maxLength) return id;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 40);
  return `${id.slice(0, maxLength - digest.length - separator.length)}${separator}${digest}`;
}
