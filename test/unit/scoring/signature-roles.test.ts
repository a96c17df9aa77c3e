import { signatureRoles } from '../../../shared/domain/signature-roles';

describe('signatureRoles', () => {
  const input = { name: 'features', type: 'float32' as const, shape: ['N', 4] };

  it('when a regression signature has a [N, 1] float output, then it is the prediction', () => {
    expect(signatureRoles({ inputs: [input], outputs: [{ name: 'y', type: 'float32', shape: [-1, 1] }] }, 'regression')).toEqual({
      input: 'features',
      width: 4,
      kind: 'regression',
      prediction: 'y',
    });
  });

  it('when a classifier has an int64 label and float32 probabilities, then both are found and classes counted', () => {
    const roles = signatureRoles(
      {
        inputs: [input],
        outputs: [
          { name: 'output_label', type: 'int64', shape: ['N'] },
          { name: 'output_probability', type: 'float32', shape: ['N', 3] },
        ],
      },
      'multiclass',
      ['a', 'b', 'c'],
    );
    expect(roles).toMatchObject({ kind: 'classification', label: 'output_label', probabilities: 'output_probability', classCount: 3 });
  });

  it('when the input width is dynamic, the class count disagrees or outputs are missing, then SIGNATURE_MISMATCH', () => {
    const probs = { name: 'p', type: 'float32' as const, shape: ['N', 2] };
    const label = { name: 'l', type: 'string' as const, shape: ['N'] };
    expect(() => signatureRoles({ inputs: [{ ...input, shape: ['N', 'W'] }], outputs: [probs] }, 'regression')).toThrow(/fixed width/);
    expect(() => signatureRoles({ inputs: [input], outputs: [label, probs] }, 'multiclass', ['a', 'b', 'c'])).toThrow(/2 classes/);
    expect(() => signatureRoles({ inputs: [input], outputs: [label] }, 'binary', ['a', 'b'])).toThrow(
      expect.objectContaining({ code: 'SIGNATURE_MISMATCH' }),
    );
  });
});
