import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { z } from 'zod';

import { isDomainError, parseOrThrow } from '../shared/domain/errors';
import type { ActivityResult } from '../shared/schemas/lifecycle-orchestration';

/**
 * Registers an activity whose input is parsed with its schema and whose expected failures (a
 * DomainError: retrying would not change the answer) come back as `{ ok: false, code, message }`
 * instead of being thrown, so the orchestration's retry policy only retries outages.
 */
export function defineActivity<S extends z.ZodType, T>(
  name: string,
  inputSchema: S,
  handler: (input: z.output<S>, context: InvocationContext) => Promise<T>,
): df.RegisteredActivity {
  return df.app.activity(name, {
    handler: async (raw: unknown, context: InvocationContext): Promise<ActivityResult> => {
      try {
        const input = parseOrThrow(inputSchema, raw, `input of ${name}`);
        return { ok: true, value: await handler(input, context) };
      } catch (error) {
        if (!isDomainError(error)) throw error;
        context.warn(`${name}: ${error.code}: ${error.message}`);
        return { ok: false, code: error.code, message: error.message };
      }
    },
  });
}
