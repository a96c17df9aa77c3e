import { errors, type InputIssue, parseOrThrow } from '../domain/errors';
import { applyMergePatch, boundedChange, type DefinitionChange, definitionChanges } from '../domain/model-changes';
import type { ModelDefinition } from '../schemas/model';
import { IMMUTABLE_MODEL_FIELDS, modelUpdateSchema } from '../schemas/model-update';
import type { ModelUpdatedEvent } from '../schemas/registry';
import { checkOutputColumns } from './column-clashes';
import { newModelDefinitionSchema } from './new-model-definition';

/** What an update asks for: the definition it makes, what changed, and the reason for the ledger. */
export interface ModelUpdatePlan {
  definition: ModelDefinition;
  /** One per changed leaf, by path; empty when the patch changes nothing. */
  changes: DefinitionChange[];
  reason?: string;
}

/** The `update` input parsed: a merge patch of the definition and the ledger's reason, apart. */
export function parseModelUpdate(input: unknown): { patch: Record<string, unknown>; reason?: string } {
  const { reason, ...patch } = parseOrThrow(modelUpdateSchema, input, 'model update');
  return { patch, ...(reason !== undefined ? { reason } : {}) };
}

/**
 * Applies a merge patch to a stored definition: refuses (VALIDATION_ERROR) a change of a field
 * stored data depends on, naming every one, then validates the result exactly as `createModel`
 * validates a new definition, and lists what changed.
 */
export function planModelUpdate(stored: ModelDefinition, update: { patch: Record<string, unknown>; reason?: string }): ModelUpdatePlan {
  const merged = applyMergePatch(stored, update.patch);
  checkImmutableFields(stored, merged);
  const definition = parseOrThrow(newModelDefinitionSchema, merged, 'model definition (after the update)');
  checkOutputColumns(definition);
  const changes = definitionChanges(stored, definition);
  return { definition, changes, ...(update.reason !== undefined ? { reason: update.reason } : {}) };
}

/** The ledger entry of an update that made `changes` (each bounded to what an event can carry). */
export function modelUpdatedEntry(
  model: string,
  revision: number,
  plan: ModelUpdatePlan,
  actor: ModelUpdatedEvent['actor'],
  at: string,
): ModelUpdatedEvent {
  return {
    id: `${model}:updated:${revision}`,
    kind: 'model_updated',
    modelName: model,
    revision,
    actor,
    at,
    ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
    changes: plan.changes.map(boundedChange),
  };
}

function checkImmutableFields(stored: ModelDefinition, merged: unknown): void {
  const issues: InputIssue[] = [];
  for (const field of IMMUTABLE_MODEL_FIELDS) {
    const before = valueAt(stored, field.path);
    const sent = valueAt(merged, field.path);
    // Read as the definition reads it, so a value sent as stored (defaults left out) is no change.
    const parsed = field.schema.safeParse(sent);
    const after = parsed.success ? parsed.data : sent;
    if (definitionChanges(before, after).length > 0) {
      issues.push({ path: field.path, code: 'immutable', message: `'${field.path}' cannot change: ${field.why}; register a new model instead` });
    }
  }
  if (issues.length === 0) return;
  const fields = issues.map((i) => i.path);
  throw errors.validation(`the update changes ${fields.map((f) => `'${f}'`).join(', ')}, which cannot change once a model is created:\n${issues.map((i) => `  ${i.message}`).join('\n')}`, {
    issues,
    immutableFields: fields,
  });
}

function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
