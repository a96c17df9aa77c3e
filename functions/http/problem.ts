import type { HttpResponseInit } from '@azure/functions';

import type { DomainError, ErrorCode } from '../../shared/domain/errors';

/** HTTP status of each error code: the one place a domain failure becomes a status. */
export const STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_ERROR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  MODEL_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  MODEL_ALREADY_EXISTS: 409,
  ILLEGAL_TRANSITION: 409,
  CONCURRENCY_CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  EVIDENCE_MISMATCH: 409,
  ARTIFACT_ALREADY_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  PARITY_MISMATCH: 422,
  SIGNATURE_MISMATCH: 422,
  UNSUPPORTED_MODEL: 422,
  INVALID_INPUT_FILE: 422,
  ARTIFACT_INTEGRITY: 422,
  INSUFFICIENT_DATA: 422,
  // A version's registered files gone from the lake: nothing the caller can change in the request.
  ARTIFACT_MISSING: 500,
  // A stored record that no longer reads: the store's data is at fault, not the request.
  DOCUMENT_UNREADABLE: 500,
};

/** RFC 9457 problem types: one stable URI per error code. */
export const problemType = (code: string): string => `urn:mlops:problem:${code.toLowerCase().replace(/_/g, '-')}`;

const title = (code: string): string => {
  const words = code.toLowerCase().split('_').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** Members a problem document defines itself; details never overwrite them. */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'code']);

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  [extension: string]: unknown;
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): HttpResponseInit {
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify(problem),
  };
}

/**
 * A DomainError as `application/problem+json`: type, title, status and detail, plus the stable
 * `code` and the error's details as extension members (zod issues under `issues`). An evidence
 * mismatch also says which evidence is current, so a client can show it and ask again.
 */
export function problemOf(error: DomainError, instance?: string): Problem {
  const status = STATUS_OF[error.code];
  const extensions = Object.fromEntries(Object.entries(error.details ?? {}).filter(([k]) => !RESERVED.has(k)));
  if (error.code === 'EVIDENCE_MISMATCH') extensions.currentEvidenceHash = error.details?.expected ?? null;
  return {
    type: problemType(error.code),
    title: title(error.code),
    status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    code: error.code,
    ...extensions,
  };
}

/** An unexpected failure: no internals in the answer, the invocation id to find them in the logs. */
export function internalProblem(invocationId: string, instance?: string): Problem {
  return {
    type: problemType('INTERNAL_ERROR'),
    title: 'Internal error',
    status: 500,
    detail: `the request failed unexpectedly; the logs of invocation ${invocationId} say why`,
    ...(instance ? { instance } : {}),
    code: 'INTERNAL_ERROR',
    invocationId,
  };
}

