import { parseBrokerConfig } from '../../devhost/servicebus/broker-config';
import { BrokerEngine } from '../../devhost/servicebus/engine';
import { MessageStore } from '../../devhost/servicebus/store';
import { brokerConfig } from '../support/servicebus';

/** A store one of whose next inserts fails (after `passing` succeed), as SQLite does when the disk is full. */
function failingStore(): { store: MessageStore; failInsert(passing: number): void } {
  const store = new MessageStore(':memory:');
  const insert = store.insert.bind(store);
  let countdown = -1;
  store.insert = (row) => {
    if (countdown >= 0 && countdown-- === 0) throw new Error('SQLITE_FULL: database or disk is full');
    return insert(row);
  };
  return { store, failInsert: (passing) => (countdown = passing) };
}

describe('broker engine when the store fails', () => {
  const config = parseBrokerConfig(
    brokerConfig({
      dedup: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT10M' },
    }),
  );
  let now = 1_000_000;
  const clock = (): number => now;

  it('when a send fails to be stored, then its retry with the same message id is stored (not dropped as a duplicate)', () => {
    const { store, failInsert } = failingStore();
    const engine = new BrokerEngine(config, store, clock);
    const queue = engine.findReceiving('dedup')!;
    failInsert(0);
    expect(() => engine.send('dedup', [{ message_id: 'order-1', body: 'first try' }])).toThrow(/SQLITE_FULL/);
    expect(engine.peek(queue, 1, 10)).toHaveLength(0);

    engine.send('dedup', [{ message_id: 'order-1', body: 'retry' }]);
    const held = engine.peek(queue, 1, 10);
    expect(held.map((e) => e.message.body)).toEqual(['retry']);
    // The failed attempt issued no number either: numbering stays gap-free.
    expect(held[0]!.seq).toBe(1);
    // And the id is now remembered: a third send inside the window is the duplicate.
    engine.send('dedup', [{ message_id: 'order-1', body: 'third' }]);
    expect(engine.peek(queue, 1, 10)).toHaveLength(1);
    store.close();
  });

  it('when a batch of scheduled messages fails to be stored half way, then none of it is delivered later', () => {
    const { store, failInsert } = failingStore();
    const engine = new BrokerEngine(config, store, clock);
    const queue = engine.findReceiving('dedup')!;
    failInsert(1);
    const annotations = { 'x-opt-scheduled-enqueue-time': new Date(now + 5_000) };
    expect(() =>
      engine.schedule('dedup', [
        { message_id: 'later-1', body: 'x', message_annotations: annotations },
        { message_id: 'later-2', body: 'y', message_annotations: annotations },
      ]),
    ).toThrow(/SQLITE_FULL/);
    now += 10_000;
    engine.sweep();
    expect(engine.peek(queue, 1, 10)).toHaveLength(0);
    expect(store.all()).toHaveLength(0);
    store.close();
  });
});
