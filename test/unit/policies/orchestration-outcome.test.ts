import { COMPLETED_INSTANCE_GRACE_MS, impossibleInstanceId, strandedBy } from '../../../shared/domain/policies/orchestration-outcome';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const ID = 'batch:demand:r1';

describe('whether a document an instance works on is stranded', () => {
  it('when the instance does not exist, then it is stranded, saying it no longer exists', () => {
    expect(strandedBy(ID, undefined, NOW)).toBe(`the orchestration instance '${ID}' no longer exists (purged, or its task hub was reset) and did not record the outcome`);
  });

  it.each(['Terminated', 'Failed', 'Canceled'])('when the instance ended %s, even a moment ago, then it is stranded, naming the status', (status) => {
    expect(strandedBy(ID, { runtimeStatus: status, lastUpdatedTime: NOW }, NOW)).toBe(`the orchestration instance '${ID}' ended (${status}) without recording the outcome`);
  });

  it('when the instance completed, then it is stranded only once the grace period has passed since its last update', () => {
    expect(strandedBy(ID, { runtimeStatus: 'Completed', lastUpdatedTime: ago(COMPLETED_INSTANCE_GRACE_MS - 1) }, NOW)).toBeUndefined();
    expect(strandedBy(ID, { runtimeStatus: 'Completed', lastUpdatedTime: ago(COMPLETED_INSTANCE_GRACE_MS) }, NOW)).toBe(`the orchestration instance '${ID}' ended (Completed) without recording the outcome`);
    // A host clock ahead of ours: the completion looks to come from the future, and is not judged yet.
    expect(strandedBy(ID, { runtimeStatus: 'Completed', lastUpdatedTime: ago(-60_000) }, NOW)).toBeUndefined();
  });

  it.each(['Running', 'Pending', 'Suspended', 'ContinuedAsNew', 'SomethingNew'])('when the instance is %s, then it is not stranded, however old', (status) => {
    expect(strandedBy(ID, { runtimeStatus: status, lastUpdatedTime: new Date(0) }, NOW)).toBeUndefined();
  });

  it.each(['', '.', '..', '@entity', 'batch:demand:r1?x=1', 'batch:demand:r1#x', 'batch/demand', 'a\\b', 'a\u0000b', 'a\u0085b', 'x'.repeat(257)])(
    'when the document names an id no instance can have (%j), then it is stranded whatever the status says, saying so',
    (id) => {
      expect(impossibleInstanceId(id)).toEqual(expect.any(String));
      expect(strandedBy(id, { runtimeStatus: 'Running', lastUpdatedTime: NOW }, NOW)).toMatch(/^the document names no orchestration instance that can exist \(".*": an? .+\), so none will record the outcome$/s);
    },
  );

  it.each([ID, 'actuals:demand:march.csv-0123456789abcdef', 'x'.repeat(256), 'a b', 'ü:1'])('when the id is one an instance can have (%j), then the status judges it', (id) => {
    expect(impossibleInstanceId(id)).toBeUndefined();
    expect(strandedBy(id, { runtimeStatus: 'Running', lastUpdatedTime: NOW }, NOW)).toBeUndefined();
  });
});
