import { z } from 'zod';

import { DomainError, ERROR_CODES, errors, parseOrThrow } from '../../shared/domain/errors';

describe('the error catalogue and the boundary parser', () => {
  it('when every code is listed, then each has a constructor that makes it', () => {
    const made = new Set(
      Object.values(errors).map((make) => (make as (a: string, b: number) => DomainError)('m', 1).code),
    );
    expect([...made].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('when input fits the schema, then parseOrThrow returns the parsed value with defaults', () => {
    const schema = z.object({ name: z.string(), size: z.number().default(3) });
    expect(parseOrThrow(schema, { name: 'a' }, 'thing')).toEqual({ name: 'a', size: 3 });
  });

  it('when input does not fit, then parseOrThrow throws VALIDATION_ERROR naming what, every issue in the message and as details', () => {
    const schema = z.object({ name: z.string(), items: z.array(z.number().int()) });
    let thrown: unknown;
    try {
      parseOrThrow(schema, { items: [1, 2.5] }, 'thing');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    const error = thrown as DomainError;
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toMatch(/^invalid thing:\n/);
    expect(error.message).toMatch(/→ at name/);
    expect(error.message).toMatch(/→ at items\[1\]/);
    expect(error.details).toEqual({
      issues: [
        { path: 'name', code: 'invalid_type', message: expect.stringMatching(/expected string/) },
        { path: 'items.1', code: 'invalid_type', message: expect.stringMatching(/expected int/) },
      ],
    });
  });

  it('when input has more issues than are listed, then the first ones are listed with the count of all, not a line per issue', () => {
    const schema = z.object({ rows: z.array(z.object({ id: z.string() })) });
    let thrown: unknown;
    try {
      parseOrThrow(schema, { rows: Array.from({ length: 100_000 }, () => 1) }, 'request body');
    } catch (e) {
      thrown = e;
    }
    const error = thrown as DomainError;
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.message).toMatch(/^invalid request body: 100000 issues, the first 100:\n/);
    expect(error.message).toMatch(/→ at rows\[99\]/);
    expect(error.message).not.toMatch(/→ at rows\[100\]/);
    expect(error.details).toMatchObject({ issueCount: 100_000 });
    expect((error.details as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(Array.from({ length: 100 }, (_, i) => `rows.${i}`));
    expect(error.message.length).toBeLessThan(20_000);
  });
});
