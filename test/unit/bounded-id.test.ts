import { boundedId } from '../../shared/domain/bounded-id';

describe('boundedId', () => {
  it('when the id fits, then it is the id itself', () => {
    expect(boundedId('actuals-late-match:a:r', 128, '#')).toBe('actuals-late-match:a:r');
    expect(boundedId('x'.repeat(128), 128, '#')).toBe('x'.repeat(128));
  });

  it('when the id is longer, then it is cut to the length with the separator and 40 hex digits of its sha256: the same every time, and ids that share a head stay apart', () => {
    const long = `${'x'.repeat(200)}-1`;
    const bounded = boundedId(long, 128, '#');
    // Python: hashlib.sha256(('x' * 200 + '-1').encode()).hexdigest()[:40]
    expect(bounded).toBe(`${'x'.repeat(87)}#bb99abe26877b2773ca69ba7ccf8a187b09f30a2`);
    expect(bounded).toBe(boundedId(long, 128, '#'));
    expect(boundedId(`${'x'.repeat(200)}-2`, 128, '#')).not.toBe(bounded);
    expect(boundedId(long, 256, '-')).toBe(long);
    expect(boundedId(long, 100, '-')).toBe(`${'x'.repeat(59)}-bb99abe26877b2773ca69ba7ccf8a187b09f30a2`);
  });
});
