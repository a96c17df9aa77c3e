import type { z } from 'zod';

import { errors } from '../../errors';
import { bucketizeStep } from './bucketize';
import { clipStep } from './clip';
import { datetimePartsStep } from './datetime-parts';
import { derivedStep } from './derived';
import { dropOutliersStep } from './drop-outliers';
import { filterRowsStep } from './filter-rows';
import { imputeStep } from './impute';
import { log1pStep } from './log1p';
import { minMaxStep } from './min-max';
import { oneHotStep } from './one-hot';
import { ordinalStep } from './ordinal';
import { passthroughStep } from './passthrough';
import { pcaStep } from './pca';
import { standardizeStep } from './standardize';
import type { StepModule } from './step';

/** Every transform step type, one module each. A new step is a module added here. */
export const stepModules = [
  imputeStep,
  standardizeStep,
  minMaxStep,
  clipStep,
  log1pStep,
  oneHotStep,
  ordinalStep,
  bucketizeStep,
  pcaStep,
  datetimePartsStep,
  derivedStep,
  dropOutliersStep,
  filterRowsStep,
  passthroughStep,
] as const;

// The schemas of each step, in table order, typed as tuples (z.discriminatedUnion wants them so).
type SpecSchemas<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: T[K] extends { spec: infer S } ? S : never;
};
type FittedSchemas<T extends readonly unknown[]> = {
  -readonly [K in keyof T]: T[K] extends { fitted: infer F } ? F : never;
};

export const stepSpecSchemas = stepModules.map((m) => m.spec) as unknown as SpecSchemas<typeof stepModules>;
export const fittedStepSchemas = stepModules.map((m) => m.fitted) as unknown as FittedSchemas<
  typeof stepModules
>;

/** A step module seen through its type tag, for code that handles every step the same way. */
type AnyStepModule = StepModule<z.ZodObject, z.ZodObject>;

const byType = new Map<string, AnyStepModule>(
  stepModules.map((m) => [m.type, m as unknown as AnyStepModule]),
);

/** The module of a step type (spec or fitted step). */
export function stepModule(type: string): AnyStepModule {
  const module = byType.get(type);
  if (!module) throw errors.validation(`unknown transform step type '${type}'`);
  return module;
}

/** Step types that `fitTransforms` honours and `applyTransforms` never applies. */
export const trainingOnlyStepTypes: ReadonlySet<string> = new Set(
  stepModules.filter((m) => 'keepRows' in m).map((m) => m.type),
);

export { ANY_COLUMN, type ColumnRef, stepLabel, transformColumnSchema } from './step';
