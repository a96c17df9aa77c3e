import { isDomainError } from '../domain/errors';
import { windowLengthMs } from '../domain/windows';
import { modelInputSchema } from '../schemas/model';

/**
 * A definition as `createModel` accepts it: the input schema, and what using the model needs that
 * the stored schema cannot demand of models stored before (they must still read): a monitoring
 * window every run and monitor can cut time into.
 */
export const newModelDefinitionSchema = modelInputSchema.superRefine((definition, ctx) => {
  try {
    windowLengthMs(definition.policies.drift.window);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    ctx.addIssue({ code: 'custom', path: ['policies', 'drift', 'window'], message: error.message });
  }
});
