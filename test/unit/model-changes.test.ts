import { applyMergePatch, boundedChange, definitionChanges } from '../../shared/domain/model-changes';

describe('JSON merge patch (RFC 7396)', () => {
  // The examples of RFC 7396, Appendix A: target, patch, result.
  const rfcExamples: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(rfcExamples)('when %j is patched with %j, then it is %j, as RFC 7396 Appendix A says', (target, patch, result) => {
    expect(applyMergePatch(target, patch)).toEqual(result);
  });

  it('when a patch has a member named __proto__, then it is an own member of the result, not its prototype', () => {
    const result = applyMergePatch({ a: 1 }, JSON.parse('{"__proto__": {"b": 2}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['a', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ b: 2 });
  });

  it('when a target is patched, then the target itself is left as it was', () => {
    const target = { a: { b: 1 } };
    applyMergePatch(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe('definition changes', () => {
  it('when objects differ, then each changed leaf is listed by path, arrays as one leaf, added and removed ones without from or to', () => {
    expect(definitionChanges({ a: { b: 1, c: [1, 2] }, d: 'x', z: true }, { a: { b: 2, c: [1, 3] }, e: 'y', z: true })).toEqual([
      { path: 'a.b', from: 1, to: 2 },
      { path: 'a.c', from: [1, 2], to: [1, 3] },
      { path: 'd', from: 'x' },
      { path: 'e', to: 'y' },
    ]);
  });

  it('when nothing differs, then there are no changes', () => {
    expect(definitionChanges({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2 }] } })).toEqual([]);
  });
});

describe('the ledger preview of a large value', () => {
  const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  it('when the preview would end inside a surrogate pair (an emoji), then it ends before the pair, so the entry holds only whole characters; otherwise it keeps 200 characters', () => {
    for (const [description, kept] of [
      ['😀'.repeat(1001), 199],
      [`a${'😀'.repeat(1001)}`, 200],
    ] as const) {
      const json = JSON.stringify(description);
      const bounded = boundedChange({ path: 'description', from: '', to: description });
      expect(bounded).toEqual({ path: 'description', from: '', to: `${json.slice(0, kept)}… (${json.length} characters of JSON)`, truncated: true });
      expect(bounded.to).not.toMatch(loneSurrogate);
    }
  });
});
