import { z } from 'zod';

/**
 * The catalogue of expected failures. Each has a stable `code` that clients can rely on; the HTTP
 * layer maps codes to statuses (functions/http), so the domain says what went wrong, not how a
 * transport reports it. Transient failures are not listed here: they are thrown as they come so
 * that host retries and dead-lettering work.
 */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'MODEL_NOT_FOUND',
  'VERSION_NOT_FOUND',
  'NOT_FOUND',
  'MODEL_ALREADY_EXISTS',
  'ILLEGAL_TRANSITION',
  'CONCURRENCY_CONFLICT',
  'PRECONDITION_FAILED',
  'EVIDENCE_MISMATCH',
  'ARTIFACT_ALREADY_EXISTS',
  'IDEMPOTENCY_KEY_REUSED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'PARITY_MISMATCH',
  'SIGNATURE_MISMATCH',
  'UNSUPPORTED_MODEL',
  'INVALID_INPUT_FILE',
  'ARTIFACT_INTEGRITY',
  'ARTIFACT_MISSING',
  'DOCUMENT_UNREADABLE',
  'INSUFFICIENT_DATA',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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

type Details = Record<string, unknown>;

/** The files registration stores beside a version, as an error names them. */
export type VersionFile = 'ONNX artifact' | 'fitted transforms' | 'golden records' | 'registration manifest';
const make = (code: ErrorCode) => (message: string, details?: Details) => new DomainError(code, message, details);

/** One constructor per code, so call sites read as the failure they report. */
export const errors = {
  validation: make('VALIDATION_ERROR'),
  unauthenticated: make('UNAUTHENTICATED'),
  forbidden: make('FORBIDDEN'),
  modelNotFound: (model: string) => new DomainError('MODEL_NOT_FOUND', `model '${model}' does not exist`, { model }),
  versionNotFound: (model: string, version: number) =>
    new DomainError('VERSION_NOT_FOUND', `model '${model}' has no version ${version}`, { model, version }),
  notFound: make('NOT_FOUND'),
  modelAlreadyExists: (model: string) => new DomainError('MODEL_ALREADY_EXISTS', `model '${model}' already exists`, { model }),
  illegalTransition: make('ILLEGAL_TRANSITION'),
  concurrencyConflict: make('CONCURRENCY_CONFLICT'),
  /** The caller's precondition (an HTTP `If-Match`) names a state the resource is no longer in. */
  preconditionFailed: make('PRECONDITION_FAILED'),
  evidenceMismatch: make('EVIDENCE_MISMATCH'),
  artifactAlreadyExists: make('ARTIFACT_ALREADY_EXISTS'),
  idempotencyKeyReused: make('IDEMPOTENCY_KEY_REUSED'),
  payloadTooLarge: make('PAYLOAD_TOO_LARGE'),
  unsupportedMediaType: make('UNSUPPORTED_MEDIA_TYPE'),
  parityMismatch: make('PARITY_MISMATCH'),
  signatureMismatch: make('SIGNATURE_MISMATCH'),
  unsupportedModel: make('UNSUPPORTED_MODEL'),
  invalidInputFile: make('INVALID_INPUT_FILE'),
  artifactIntegrity: make('ARTIFACT_INTEGRITY'),
  /** A file registration stored with a version is gone from the lake: the backend's data, not the caller's request, is at fault. */
  artifactMissing: (model: string, version: number, file: VersionFile) =>
    new DomainError('ARTIFACT_MISSING', `model '${model}' version ${version}: its ${file} is missing from the data lake; restore it or register the version again`, {
      model,
      version,
      file,
    }),
  /** A stored record asked for by id no longer reads (damaged, or stored under rules that have since tightened): the store's fault, said as the lists say it. */
  documentUnreadable: (kind: string, model: string, id: string, reason: string) =>
    new DomainError('DOCUMENT_UNREADABLE', `the stored ${kind} '${id}' of '${model}' cannot be read: ${reason}`, { model, id, reason }),
  insufficientData: make('INSUFFICIENT_DATA'),
} satisfies Record<string, (...args: never[]) => DomainError>;

/** One zod issue as clients see it: where, what, and zod's code. */
export interface InputIssue {
  path: string;
  message: string;
  code: string;
}

export function inputIssues(error: z.ZodError): InputIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));
}

/** Every issue of a zod error, one per line, as zod 4 prints them. */
export const formatIssues = (error: z.ZodError): string => z.prettifyError(error);

/** Issues listed in a VALIDATION_ERROR: a body with a million bad values must not answer a million lines. */
export const MAX_LISTED_ISSUES = 100;

/**
 * The one way input crosses a boundary: parsed by its schema, or VALIDATION_ERROR saying what
 * (`what`) was invalid, its issues in the message and as `details.issues`: every one, or the
 * first MAX_LISTED_ISSUES and `details.issueCount` (a 2 MB body of a million invalid rows answered
 * a 180 MB problem document after 29 s).
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const all = result.error.issues;
  if (all.length <= MAX_LISTED_ISSUES) throw errors.validation(`invalid ${what}:\n${formatIssues(result.error)}`, { issues: inputIssues(result.error) });
  const listed = new z.ZodError(all.slice(0, MAX_LISTED_ISSUES));
  throw errors.validation(`invalid ${what}: ${all.length} issues, the first ${MAX_LISTED_ISSUES}:\n${formatIssues(listed)}`, {
    issues: inputIssues(listed),
    issueCount: all.length,
  });
}
