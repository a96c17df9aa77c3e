import { documentBytes } from '../../shared/domain/document-size';
import { modelEventSchema } from '../../shared/schemas/messages';
import type { InferenceRun } from '../../shared/schemas/monitoring';
import { flavourEventOf, MAX_FLAVOUR_EVENT_VALUE_BYTES } from '../../shared/usecases/run-events';
import { anInferenceRun } from '../support/builders';

type Flavours = NonNullable<InferenceRun['flavours']>;
const completed = (flavours: Flavours) => ({
  ...anInferenceRun('demand', '20261206T0000Z-abc', { state: 'completed', completedAt: '2026-12-06T09:00:00.000Z' }),
  flavours,
});

describe('flavour.detected', () => {
  it('when a run saw a few new values, then the event lists them all, as the run does', () => {
    const event = flavourEventOf(
      completed({ newSegmentValues: { region: ['east'] }, unseenCategories: { region: { rows: 30, values: ['east'] } }, outOfRange: { age: { below: 2, above: 3 } } }),
    );
    expect(event).toEqual({
      eventId: 'run:20261206T0000Z-abc:flavours',
      model: 'demand',
      version: 1,
      occurredAt: '2026-12-06T09:00:00.000Z',
      type: 'flavour.detected',
      data: { runId: '20261206T0000Z-abc', newSegmentValues: { region: ['east'] }, unseenCategories: { region: ['east'] }, outOfRange: { age: 5 } },
    });
  });

  it('when a run saw tens of thousands of new segment values, then the event lists what fits one Service Bus message and counts the rest', () => {
    const stores = Array.from({ length: 30_000 }, (_, i) => `store-${String(i).padStart(6, '0')}`);
    const categories = Array.from({ length: 50 }, (_, i) => `cat-${i}`);
    const event = modelEventSchema.parse(
      flavourEventOf(completed({ newSegmentValues: { store_id: stores }, unseenCategories: { brand: { rows: 900, values: categories } }, outOfRange: {} })),
    );
    if (event.type !== 'flavour.detected') throw new Error(event.type);
    expect(documentBytes(event)).toBeLessThan(MAX_FLAVOUR_EVENT_VALUE_BYTES + 4096);
    const kept = event.data.newSegmentValues.store_id!;
    expect(kept.length).toBeGreaterThan(1000);
    expect(kept).toEqual(stores.slice(0, kept.length));
    expect(event.data.omittedValues).toEqual({ store_id: stores.length - kept.length, brand: categories.length });
  });

  it('when a segment key went past SEGMENT_MAX_VALUES, then the event says how many values it saw and how many rows were counted as __other__', () => {
    const segmentValuesCapped = { store_id: { limit: 100, distinctValuesAtLeast: 200_000, foldedRows: 199_000 } };
    const event = modelEventSchema.parse(flavourEventOf(completed({ newSegmentValues: { store_id: ['s1', 's2'] }, unseenCategories: {}, outOfRange: {}, segmentValuesCapped })));
    if (event.type !== 'flavour.detected') throw new Error(event.type);
    expect(event.data).toEqual({ runId: '20261206T0000Z-abc', newSegmentValues: { store_id: ['s1', 's2'] }, unseenCategories: {}, outOfRange: {}, segmentValuesCapped });
  });
});
