import { modelInputSchema } from '../../../shared/schemas/model';
import { usableTrainingRows } from '../../../shared/usecases/builtin-trainer';
import { trainingColumns } from '../../../shared/usecases/training-data';
import { aRegionalModel } from '../../support/model-kit';

const definition = modelInputSchema.parse(aRegionalModel('regional'));
const columns = trainingColumns(definition);
/** A snapshot row: id, x1, x2, region, actual (trainingColumns' order). */
const row = (id: number, x1: string | null, actual: string | null = '1.5'): (string | null)[] => [`r${id}`, x1, '0.5', id % 2 === 0 ? 'south' : 'north', actual];

describe('usable training rows (what RETRAINING_MIN_ROWS is held against)', () => {
  it('when rows fail row validation, have no usable target or are dropped by the refitted spec, then only the others count, each refusal by its code', () => {
    expect(columns).toEqual(['id', 'x1', 'x2', 'region', 'actual']);
    const spec = {
      specVersion: 1 as const,
      steps: [
        { type: 'filter_rows' as const, where: [{ column: 'x1', op: 'ge' as const, value: 0 }] },
        { type: 'one_hot' as const, column: 'region', unseen: 'ignore' as const },
      ],
      output: ['x1', 'x2', 'region_north', 'region_south'],
    };
    const rows = [
      ...[1, 2, 3, 4].map((i) => row(i, String(i))),
      row(5, null),
      row(6, 'not a number'),
      row(7, '2', null),
      row(8, '-1'),
      row(9, '-2'),
    ];

    const { usable, refused } = usableTrainingRows(definition, spec, columns, rows);

    expect(usable).toBe(4);
    expect(refused).toEqual({ 'missing_value:x1': 1, 'not_a_number:x1': 1, unusable_actual: 1, transform: 2 });
  });

  it('when every row is usable, then all count and nothing is refused', () => {
    const spec = { specVersion: 1 as const, steps: [{ type: 'one_hot' as const, column: 'region', unseen: 'ignore' as const }], output: ['x1', 'x2', 'region_north', 'region_south'] };
    expect(usableTrainingRows(definition, spec, columns, [row(1, '1'), row(2, '2'), row(3, '3')])).toEqual({ usable: 3, refused: {} });
  });

  it('when the spec cannot be refitted on the rows (no south row for its region_south output), then the validated rows count: the training fails on the spec in its own words', () => {
    const spec = { specVersion: 1 as const, steps: [{ type: 'one_hot' as const, column: 'region', unseen: 'ignore' as const }], output: ['x1', 'x2', 'region_north', 'region_south'] };
    expect(usableTrainingRows(definition, spec, columns, [row(1, '1'), row(3, '3'), row(5, null)])).toEqual({ usable: 2, refused: { 'missing_value:x1': 1 } });
  });
});
