import { z } from 'zod';

import {
  evaluateExpression,
  expressionColumns,
  type ExpressionNode,
  ExpressionSyntaxError,
  parseExpression,
} from '../expression';
import {
  ANY_COLUMN,
  type ColumnRef,
  defineStep,
  formatValue,
  type IssueAt,
  transformColumnSchema,
} from './step';

const expressionSchema = z.string().min(1).max(2000);

/** A new column computed by an expression (grammar in docs/transforms.md). */
export const derivedStep = defineStep({
  type: 'derived',
  spec: z.object({ type: z.literal('derived'), output: transformColumnSchema, expression: expressionSchema }),
  fitted: z.object({
    type: z.literal('derived'),
    output: transformColumnSchema,
    expression: expressionSchema,
    /** The columns the expression reads. */
    inputs: z.array(transformColumnSchema),
  }),
  check: (step, issue) => checkExpression(step.expression, issue),
  checkFitted: (step, issue) => checkExpression(step.expression, issue),
  reads: (step) => expressionColumns(parseExpression(step.expression)),
  fit(step, frame, where) {
    const inputs = expressionColumns(parseExpression(step.expression));
    inputs.forEach((name) => frame.numeric(name, where));
    return { type: 'derived' as const, output: step.output, expression: step.expression, inputs };
  },
  writes: (step) => [step.output],
  touches: (step) => [...step.inputs, ...expressionReads(step), step.output],
  apply(step, frame, reject, where) {
    const n = frame.rows;
    const out = evaluateExpression(parsedExpression(step), (name) => frame.numeric(name, where), n, {
      alloc: () => frame.alloc(),
      free: (values) => frame.recycle(values),
    });
    const inputs = step.inputs.map((name) => frame.numeric(name, where));
    for (let i = 0; i < n; i += 1) {
      const v = out[i]!;
      if (Number.isFinite(v)) continue;
      // A missing input makes a missing output, reported with the output; anything else is the
      // expression's own doing (division by zero, log of a negative number, overflow).
      if (inputs.every((x) => x[i] === x[i]))
        reject(i, `${where}: '${step.output}' = ${step.expression} is ${formatValue(v)} for this row`);
    }
    frame.setNumeric(step.output, out);
  },
});

/** A syntax error is reported at `expression`, with its column. */
function checkExpression(expression: string, issue: IssueAt): void {
  try {
    parseExpression(expression);
  } catch (e) {
    if (!(e instanceof ExpressionSyntaxError)) throw e;
    issue(['expression'], e.message);
  }
}

// Applying runs block by block: parse each derived expression once, not once per block.
const parsed = new WeakMap<object, ExpressionNode>();
function parsedExpression(step: { expression: string }): ExpressionNode {
  let ast = parsed.get(step);
  if (!ast) {
    ast = parseExpression(step.expression);
    parsed.set(step, ast);
  }
  return ast;
}

/** The columns an expression reads; ANY_COLUMN when it does not parse (applying it will throw). */
function expressionReads(step: { expression: string }): ColumnRef[] {
  try {
    return expressionColumns(parsedExpression(step));
  } catch {
    return [ANY_COLUMN];
  }
}
