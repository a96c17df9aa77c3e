import { entriesWithinBytes, jsonBytes, MAX_PAGE_BYTES } from '../../shared/schemas/paging';

describe('entriesWithinBytes', () => {
  const sizes = (...n: number[]) => entriesWithinBytes(n, (b) => b, 10);

  it('when entries fit the budget exactly, then all are held; one byte more and the last is left for the next page', () => {
    expect(sizes(4, 6)).toBe(2);
    expect(sizes(4, 7)).toBe(1);
    expect(sizes(3, 3, 3, 3)).toBe(3);
  });

  it('when the first entry alone passes the budget, then it is held anyway, so paging progresses; no entries hold none', () => {
    expect(sizes(50, 1)).toBe(1);
    expect(sizes()).toBe(0);
  });

  it('when an entry does not fit, then the page stops there even if a later, smaller one would fit, and later entries are not measured', () => {
    const measured: number[] = [];
    expect(entriesWithinBytes([4, 9, 1, 1], (b) => (measured.push(b), b), 10)).toBe(1);
    expect(measured).toEqual([4, 9]);
  });

  it('when no budget is given, then MAX_PAGE_BYTES holds; an entry counts its JSON in UTF-8 bytes', () => {
    expect(entriesWithinBytes([MAX_PAGE_BYTES / 2, MAX_PAGE_BYTES / 2, 1], (b) => b)).toBe(2);
    expect(jsonBytes({ a: 'é' })).toBe(Buffer.byteLength('{"a":"é"}'));
    expect(jsonBytes(undefined)).toBe(0);
  });
});
