import { isDomainError } from '../domain/errors';
import { metricsForTask } from '../domain/metrics';
import { addIsoDuration } from '../domain/policies/duration';
import { windowLengthMs } from '../domain/windows';
import { modelInputSchema } from '../schemas/model';
import { columnReferenceProblems } from './column-clashes';

/**
 * The largest definition, as JSON (UTF-8). It is stored in the model's registry document, and a
 * Cosmos DB item is at most 2 MB: past that the store refuses the write and the caller got a 500.
 */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

/** Where a duration is measured from to tell whether it is any time at all. */
const DURATION_ORIGIN = new Date(0);

/**
 * A definition as `createModel` accepts it: the input schema, and what using the model needs that
 * the stored schema cannot demand of models stored before (they must still read): a monitoring
 * window every run and monitor can cut time into, an approval timeout that is some time at all,
 * feature ranges a value can be inside, columns named where the model has them
 * (columnReferenceProblems), metrics its task reports, and a size its registry document can hold.
 */
export const newModelDefinitionSchema = modelInputSchema.superRefine((definition, ctx) => {
  const bytes = Buffer.byteLength(JSON.stringify(definition), 'utf8');
  if (bytes > MAX_DEFINITION_BYTES) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: `the definition is ${bytes} bytes of JSON, more than the ${MAX_DEFINITION_BYTES} a model's registry document holds (${definition.features.length} features)`,
    });
  }
  for (const [i, feature] of definition.features.entries()) {
    if (feature.type !== 'numeric' && feature.type !== 'datetime') continue;
    const range = feature.range;
    if (!range) continue;
    const [min, max] = feature.type === 'numeric' ? [range.min, range.max] : [Date.parse(String(range.min)), Date.parse(String(range.max))];
    if (min > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['features', i, 'range'],
        message: `the range of '${feature.name}' has min ${JSON.stringify(range.min)} above max ${JSON.stringify(range.max)}: no value could be inside it`,
      });
    }
  }
  for (const problem of columnReferenceProblems(definition)) ctx.addIssue({ code: 'custom', ...problem });
  // A metric the task does not report is undefined on every validation and every window.
  const reported = metricsForTask[definition.task];
  for (const policy of ['validation', 'performance'] as const) {
    const metric = definition.policies[policy].metric;
    if (metric !== undefined && !reported.includes(metric)) {
      ctx.addIssue({
        code: 'custom',
        path: ['policies', policy, 'metric'],
        message: `the metric '${metric}' is not one a ${definition.task} model is measured by (${reported.join(', ')})`,
      });
    }
  }
  // A zero timeout (PT0S, P0D, PT0.0001S: under a millisecond) expires every version the moment it awaits approval.
  const timeout = definition.policies.approval.timeout;
  if (addIsoDuration(DURATION_ORIGIN, timeout).getTime() <= DURATION_ORIGIN.getTime()) {
    ctx.addIssue({
      code: 'custom',
      path: ['policies', 'approval', 'timeout'],
      message: `the approval timeout '${timeout}' is no time at all: every version would expire the moment it awaits approval; give a duration such as P7D`,
    });
  }
  try {
    windowLengthMs(definition.policies.drift.window);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    ctx.addIssue({ code: 'custom', path: ['policies', 'drift', 'window'], message: error.message });
  }
});
