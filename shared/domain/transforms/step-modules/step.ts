import { z } from 'zod';

import { DomainError, errors } from '../../errors';
import type { Frame, RejectRow } from '../frame';

/**
 * What one transform step is: its spec and fitted schemas, the rules the schemas cannot say, how
 * it is fitted and applied, and which columns it reads and writes. Each step type is one module
 * that exports one of these; `step-modules/index.ts` lists them, and the spec and fitted schemas, fitting
 * and applying all go through that table.
 */
export interface StepModule<
  S extends z.ZodObject,
  F extends z.ZodObject,
  Spec = z.output<S>,
  Fitted = z.output<F>,
> {
  readonly type: string;
  /** The step as a spec writes it (a zod object with a `type` literal). */
  readonly spec: S;
  /** The fitted step as stored with a model version (a zod object with the same `type` literal). */
  readonly fitted: F;
  /** Rules across fields of a spec step; `issue` takes a path relative to the step. */
  check?(step: Spec, issue: IssueAt): void;
  /** Per-column parameter arrays of a fitted step and the length each must have. */
  parameterLengths?(fitted: Fitted): ParameterLength[];
  /** Rules across fields of a fitted step beyond its lengths (it may come back from storage). */
  checkFitted?(fitted: Fitted, issue: IssueAt): void;
  /** Frame columns a spec step reads (raw inputs are found through these). */
  reads(step: Spec): string[];
  /** Frame columns the step reads as categories (a training file is typed by them). */
  categoricalReads?(step: Spec): string[];
  fit(step: Spec, frame: Frame, where: string): Fitted;
  /** Frame columns a fitted step writes. */
  writes(fitted: Fitted): string[];
  /** Every column a fitted step reads or writes (ANY_COLUMN when it could read anything). */
  touches(fitted: Fitted): ColumnRef[];
  /** Applies the step at inference; rows it cannot handle go to `reject`. Absent for training-only steps. */
  apply?(fitted: Fitted, frame: Frame, reject: RejectRow, where: string): void;
  /** Training-only steps: the rows kept (1) or dropped (0) for the steps after it. */
  keepRows?(fitted: Fitted, frame: Frame, where: string): Uint8Array;
  /**
   * Steps whose outputs are indicator columns (one-hot): writes, per row, the index of the one
   * output set to 1 (-1 for none), so applying can write the ones straight into the matrix.
   */
  indicatorCodes?(
    fitted: Fitted,
    frame: Frame,
    rows: number,
    reject: RejectRow,
    where: string,
    codes: Int32Array,
  ): void;
}

/** Any step, spec or fitted, as code that handles every step type alike sees it. */
export interface StepObject {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A step module seen through its type tag (see `stepModule`). */
export type AnyStepModule = StepModule<z.ZodObject, z.ZodObject, StepObject, StepObject>;

export type IssueAt = (path: (string | number)[], message: string) => void;

/** [field, actual length, expected length] of one parameter array of a fitted step. */
export type ParameterLength = [string, number, number];

/** Stands for every column name: a step that may read anything (an expression that does not parse). */
export const ANY_COLUMN = Symbol('any column');
export type ColumnRef = string | typeof ANY_COLUMN;

/** Keeps a module's own types while checking it against StepModule. */
export const defineStep = <S extends z.ZodObject, F extends z.ZodObject>(
  module: StepModule<S, F, z.output<S>, z.output<F>>,
): StepModule<S, F, z.output<S>, z.output<F>> => module;

// Building blocks of step schemas.

/** A column in the transform frame: a raw input column or one written by a step. */
export const transformColumnSchema = z.string().min(1).max(200);
export const columnsSchema = z.array(transformColumnSchema).min(1);
/** Output names for a per-column step; omitted means "replace the input columns in place". */
export const outputsSchema = columnsSchema.optional();

/** Per-column steps (`columns` + optional `outputs`): outputs line up with columns, and neither repeats. */
export function checkPerColumn(
  step: { columns: string[]; outputs?: string[] | undefined },
  issue: IssueAt,
  wanted = step.columns.length,
  type = '',
): void {
  if (step.outputs !== undefined) {
    if (step.outputs.length !== wanted)
      issue(['outputs'], `${type} needs ${wanted} output name(s), got ${step.outputs.length}`);
    if (new Set(step.outputs).size !== step.outputs.length)
      issue(['outputs'], 'output names must be distinct');
  }
  checkDistinctColumns(step, issue);
}

export function checkDistinctColumns(step: { columns: string[] }, issue: IssueAt): void {
  if (new Set(step.columns).size !== step.columns.length) issue(['columns'], 'columns must be distinct');
}

/** Fitted per-column steps: `outputs` and each parameter array have one entry per column. */
export function perColumnLengths(
  fitted: { columns: string[]; outputs: string[] },
  parameters: Record<string, readonly unknown[]> = {},
): ParameterLength[] {
  const n = fitted.columns.length;
  return [
    ['outputs', fitted.outputs.length, n],
    ...Object.entries(parameters).map(([field, values]): ParameterLength => [field, values.length, n]),
  ];
}

// Messages.

/** "step 3 (standardize)": how messages name a step (1-based). */
export const stepLabel = (index: number, type: string): string => `step ${index + 1} (${type})`;

export const invalid = (message: string, details?: Record<string, unknown>): DomainError =>
  errors.validation(message, details);

export const noData = (where: string, column: string): DomainError =>
  errors.insufficientData(`${where}: column '${column}' has no non-missing training value to fit on`, {
    column,
  });

export const formatValue = (v: number): string => (Number.isNaN(v) ? 'NaN' : String(v));
