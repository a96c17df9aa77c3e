import { ifMatchRevisions, modelEtag } from '../../../functions/http/model-etag';

describe("a model's ETag and If-Match", () => {
  it('when a model was never updated, then its ETag names revision 0; after updates, its revision', () => {
    expect(modelEtag({})).toBe('"r0"');
    expect(modelEtag({ revision: 12 })).toBe('"r12"');
  });

  it('when If-Match is absent, empty or *, then there is no condition', () => {
    expect(ifMatchRevisions(null)).toBeUndefined();
    expect(ifMatchRevisions('  ')).toBeUndefined();
    expect(ifMatchRevisions('*')).toBeUndefined();
  });

  it('when If-Match lists ETags, then each of ours names its revision; weak or foreign tags name none, so they fail the condition', () => {
    expect(ifMatchRevisions(modelEtag({ revision: 3 }))).toEqual([3]);
    expect(ifMatchRevisions('"r1", "r4"')).toEqual([1, 4]);
    expect(ifMatchRevisions('W/"r1"')).toEqual([]);
    expect(ifMatchRevisions('"00000000-0000-0000-1234-5678"')).toEqual([]);
    expect(ifMatchRevisions('r1')).toEqual([]);
  });

  it('when a tag spells a revision with leading zeros, then it names none: the API never gave it, and tags compare character by character', () => {
    expect(ifMatchRevisions('"r012"')).toEqual([]);
    expect(ifMatchRevisions('"r00", "r0", "r10"')).toEqual([0, 10]);
  });
});
