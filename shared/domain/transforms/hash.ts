import {
  type FittedTransforms,
  fittedTransformsSchema,
  type TransformSpecInput,
  transformSpecSchema,
} from '../../schemas/transforms';
import { canonicalHash } from '../canonical-json';

/**
 * sha256 of the spec's canonical JSON, after parsing (so omitted defaults and key order do not
 * change it). Throws the zod error when the spec is invalid.
 */
export function transformSpecHash(spec: TransformSpecInput): string {
  return canonicalHash(transformSpecSchema.parse(spec));
}

/** sha256 of the fitted parameters' canonical JSON. */
export function fittedTransformsHash(fitted: FittedTransforms): string {
  return canonicalHash(fittedTransformsSchema.parse(fitted));
}
