import {
  type FittedTransforms,
  fittedTransformsSchema,
  type TransformSpec,
  type TransformSpecInput,
  transformSpecSchema,
} from '../../schemas/transforms';
import { canonicalHash } from '../canonical-json';
import { parseOrThrow } from '../errors';

/**
 * Parses a transform spec; an invalid one is a DomainError VALIDATION_ERROR listing every issue
 * with its path (e.g. `steps.2.expression: unexpected '*' at column 5 ...`).
 */
export function parseTransformSpec(input: unknown): TransformSpec {
  return parseOrThrow(transformSpecSchema, input, 'transform spec');
}

/**
 * sha256 of the spec's canonical JSON, after parsing (so omitted defaults and key order do not
 * change it). An invalid spec throws as parseTransformSpec does.
 */
export function transformSpecHash(spec: TransformSpecInput): string {
  return canonicalHash(parseTransformSpec(spec));
}

/** sha256 of the fitted parameters' canonical JSON. */
export function fittedTransformsHash(fitted: FittedTransforms): string {
  return canonicalHash(fittedTransformsSchema.parse(fitted));
}
