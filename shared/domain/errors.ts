/**
 * The catalogue of expected failures. Each has a stable `code` that clients can rely on and that
 * the HTTP layer maps to a status (see `httpStatusOf`). Transient failures are not listed here:
 * they are thrown as they come so that host retries and dead-lettering work.
 */
export const errorCodes = {
  VALIDATION_ERROR: 400,
  FORBIDDEN: 403,
  MODEL_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  MODEL_ALREADY_EXISTS: 409,
  ILLEGAL_TRANSITION: 409,
  CONCURRENCY_CONFLICT: 409,
  EVIDENCE_MISMATCH: 409,
  ARTIFACT_ALREADY_EXISTS: 409,
  PARITY_MISMATCH: 422,
  SIGNATURE_MISMATCH: 422,
  UNSUPPORTED_MODEL: 422,
  INVALID_INPUT_FILE: 422,
  ARTIFACT_INTEGRITY: 422,
  INSUFFICIENT_DATA: 422,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

export function httpStatusOf(error: unknown): number {
  return isDomainError(error) ? errorCodes[error.code] : 500;
}

/** Shorthands so call sites read as the failure they report. */
export const errors = {
  validation: (message: string, details?: Record<string, unknown>) =>
    new DomainError('VALIDATION_ERROR', message, details),
  forbidden: (message: string, details?: Record<string, unknown>) =>
    new DomainError('FORBIDDEN', message, details),
  modelNotFound: (model: string) =>
    new DomainError('MODEL_NOT_FOUND', `model '${model}' does not exist`, { model }),
  versionNotFound: (model: string, version: number) =>
    new DomainError('VERSION_NOT_FOUND', `model '${model}' has no version ${version}`, { model, version }),
  illegalTransition: (message: string, details?: Record<string, unknown>) =>
    new DomainError('ILLEGAL_TRANSITION', message, details),
  concurrencyConflict: (message: string, details?: Record<string, unknown>) =>
    new DomainError('CONCURRENCY_CONFLICT', message, details),
};
