import { problemOf, STATUS_OF } from '../../../functions/http/problem';
import { ERROR_CODES, errors, parseOrThrow } from '../../../shared/domain/errors';
import { approveBodySchema } from '../../../shared/schemas/api';

describe('problem documents', () => {
  it("when any error code is mapped, then it has a 4xx status, but the backend's own files missing or its stored records unreadable is a 500", () => {
    for (const code of ERROR_CODES) expect(STATUS_OF[code]).toBeGreaterThanOrEqual(400);
    expect(Object.keys(STATUS_OF).sort()).toEqual([...ERROR_CODES].sort());
    expect(ERROR_CODES.filter((code) => STATUS_OF[code] >= 500)).toEqual(['ARTIFACT_MISSING', 'DOCUMENT_UNREADABLE']);
  });

  it('when a stored record no longer reads, then the problem names the model, the id and the reason', () => {
    expect(problemOf(errors.documentUnreadable('monitoring window', 'demand', '20260301T0000Z', 'its stored window document is invalid: x'))).toEqual({
      type: 'urn:mlops:problem:document-unreadable',
      title: 'Document unreadable',
      status: 500,
      detail: "the stored monitoring window '20260301T0000Z' of 'demand' cannot be read: its stored window document is invalid: x",
      code: 'DOCUMENT_UNREADABLE',
      model: 'demand',
      id: '20260301T0000Z',
      reason: 'its stored window document is invalid: x',
    });
  });

  it('when a version\'s artifact is missing from the lake, then the problem names the model, version and file, and no lake path', () => {
    const problem = problemOf(errors.artifactMissing('demand', 3, 'ONNX artifact'), '/api/models/demand/score');
    expect(problem).toEqual({
      type: 'urn:mlops:problem:artifact-missing',
      title: 'Artifact missing',
      status: 500,
      detail: "model 'demand' version 3: its ONNX artifact is missing from the data lake; restore it or register the version again",
      instance: '/api/models/demand/score',
      code: 'ARTIFACT_MISSING',
      model: 'demand',
      version: 3,
      file: 'ONNX artifact',
    });
  });

  it('when input is invalid, then the problem carries the zod issues with their paths', () => {
    let error: unknown;
    try {
      parseOrThrow(approveBodySchema, { evidenceHash: 'x', extra: 1 }, 'request body');
    } catch (e) {
      error = e;
    }
    const problem = problemOf(error as never, '/api/models/m/versions/1/approve');
    expect(problem).toMatchObject({
      type: 'urn:mlops:problem:validation-error',
      title: 'Validation error',
      status: 400,
      code: 'VALIDATION_ERROR',
      instance: '/api/models/m/versions/1/approve',
      issues: expect.arrayContaining([expect.objectContaining({ path: 'evidenceHash' }), expect.objectContaining({ code: 'unrecognized_keys' })]),
    });
  });

  it('when evidence does not match, then the problem names the current evidence; details never overwrite standard members', () => {
    const problem = problemOf(errors.evidenceMismatch('stale', { expected: 'a'.repeat(64), received: 'b'.repeat(64), status: 'x', title: 'y' }));
    expect(problem).toMatchObject({ status: 409, title: 'Evidence mismatch', currentEvidenceHash: 'a'.repeat(64), received: 'b'.repeat(64) });
  });
});
