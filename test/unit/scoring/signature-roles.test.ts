import { checkClassIds, integerLabelMapper, signatureRoles } from '../../../shared/domain/signature-roles';

describe('signatureRoles', () => {
  const input = { name: 'features', type: 'float32' as const, shape: ['N', 4] };

  it('when a regression signature has a [N, 1] float output, then it is the prediction', () => {
    expect(
      signatureRoles(
        { inputs: [input], outputs: [{ name: 'y', type: 'float32', shape: [-1, 1] }] },
        'regression',
      ),
    ).toEqual({
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
    expect(roles).toEqual({
      kind: 'classification',
      label: 'output_label',
      probabilities: 'output_probability',
      layout: 'classes',
      classCount: 3,
    });
  });

  it('when a binary classifier has only one sigmoid output [N, 1], then it is the second class probability and the label is derived', () => {
    expect(
      signatureRoles(
        { inputs: [input], outputs: [{ name: 'output', type: 'float32', shape: ['batch_size', 1] }] },
        'binary',
        ['no', 'yes'],
      ),
    ).toEqual({
      kind: 'classification',
      probabilities: 'output',
      layout: 'positive',
      classCount: 2,
    });
    const double = signatureRoles(
      { inputs: [input], outputs: [{ name: 'p', type: 'float64', shape: ['N', 3] }] },
      'multiclass',
      ['a', 'b', 'c'],
    );
    expect(double).toEqual({ kind: 'classification', probabilities: 'p', layout: 'classes', classCount: 3 });
  });

  it('when the class count disagrees or outputs are missing, then SIGNATURE_MISMATCH', () => {
    const probs = { name: 'p', type: 'float32' as const, shape: ['N', 2] };
    const label = { name: 'l', type: 'string' as const, shape: ['N'] };
    expect(() =>
      signatureRoles({ inputs: [input], outputs: [label, probs] }, 'multiclass', ['a', 'b', 'c']),
    ).toThrow(/2 classes/);
    expect(() => signatureRoles({ inputs: [input], outputs: [label] }, 'binary', ['a', 'b'])).toThrow(
      expect.objectContaining({
        code: 'SIGNATURE_MISMATCH',
        message: expect.stringContaining("the outputs are 'l' string [N]") as string,
      }),
    );
    expect(() => signatureRoles({ inputs: [input], outputs: [label] }, 'regression')).toThrow(
      /float output of shape \[batch\]/,
    );
  });
});

describe('outputs with a fixed batch size', () => {
  const input = { name: 'features', type: 'float32' as const, shape: ['N', 4] };
  it('when the prediction, probabilities or label output has a fixed first dimension, then SIGNATURE_MISMATCH names it', () => {
    expect(() => signatureRoles({ inputs: [input], outputs: [{ name: 'y', type: 'float32', shape: [1] }] }, 'regression')).toThrow(
      "the output 'y' has a fixed batch size 1",
    );
    expect(() =>
      signatureRoles({ inputs: [input], outputs: [{ name: 'p', type: 'float32', shape: [8, 3] }] }, 'multiclass', ['a', 'b', 'c']),
    ).toThrow("the output 'p' has a fixed batch size 8");
    expect(() =>
      signatureRoles(
        { inputs: [input], outputs: [{ name: 'label', type: 'string', shape: [1] }, { name: 'p', type: 'float32', shape: ['N', 2] }] },
        'binary',
        ['a', 'b'],
      ),
    ).toThrow("the output 'label' has a fixed batch size 1");
  });
});

describe('integer labels', () => {
  it('when every class label is an integer, then a label is the class of that name; otherwise its position', () => {
    expect([0, 1, 7].map(integerLabelMapper(['0', '1']))).toEqual(['0', '1', undefined]);
    expect([1, 2, 3].map(integerLabelMapper(['1', '2', '3']))).toEqual(['1', '2', '3']);
    expect([0, 1, 2].map(integerLabelMapper(['stay', 'churn']))).toEqual(['stay', 'churn', undefined]);
  });

  it('when the graph declares class ids, then they must map onto the class labels in order', () => {
    expect(() => checkClassIds([0, 1], ['0', '1'], 'ZipMap')).not.toThrow();
    expect(() => checkClassIds([0, 1], ['stay', 'churn'], 'ZipMap')).not.toThrow();
    expect(() => checkClassIds([1, 2, 3], ['1', '2', '3'], 'ZipMap')).not.toThrow();
    expect(() => checkClassIds([0, 1], ['1', '0'], "ZipMap 'ZipMap'")).toThrow(
      expect.objectContaining({
        code: 'SIGNATURE_MISMATCH',
        message: expect.stringContaining('give ["0","1"]') as string,
      }),
    );
    expect(() => checkClassIds([1, 2, 3], ['low', 'mid', 'high'], 'LinearClassifier')).toThrow(
      /do not name them in order/,
    );
  });
});
