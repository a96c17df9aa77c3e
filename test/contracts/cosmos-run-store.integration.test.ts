import { cosmosContainers } from '../../shared/adapters/cosmos/client';
import { cosmosRunStore } from '../../shared/adapters/cosmos/run-store';
import { anInferenceRun } from '../support/builders';
import { describeRunStoreContract } from './run-store.contract';
import { describeRunStorePagingContract } from './run-store-paging.contract';
import { describeRunStoreQueriesContract } from './run-store-queries.contract';

const store = cosmosRunStore();
// Written through the SDK as the adapter lays items out (id `run:{id}`, docType, modelName), unchecked.
describeRunStoreContract('Cosmos DB adapter (local server)', () => store, async (_store, model, id, raw) => {
  const { runs } = await cosmosContainers();
  await runs.items.upsert({ ...raw, id: `run:${id}`, docType: 'run', modelName: model });
});
const docTypes = { runs: 'run', actuals: 'actuals', retraining: 'retraining' } as const;
describeRunStoreQueriesContract('Cosmos DB adapter (local server)', () => store, async (_store, kind, model, id, raw) => {
  const { runs } = await cosmosContainers();
  await runs.items.upsert({ ...raw, id: `${docTypes[kind]}:${id}`, docType: docTypes[kind], modelName: model });
});

describeRunStorePagingContract('Cosmos DB adapter (local server)', () => store, async (_store, kind, model, id, raw) => {
  const { runs } = await cosmosContainers();
  await runs.items.upsert({ ...raw, id: `${kind}:${id}`, docType: kind, modelName: model });
});

/** The containers, with every item a query hands the adapter counted: what the function holds for a page. */
function countingContainers(received: { items: number; bytes: number }) {
  const bound = <T extends object>(target: T, replace: (prop: string | symbol) => unknown) =>
    new Proxy(target, {
      get(t, prop) {
        const replaced = replace(prop);
        if (replaced !== undefined) return replaced;
        const value = Reflect.get(t, prop, t) as unknown;
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  const count = <R extends { resources: unknown[] }>(response: R): R => {
    for (const r of response.resources ?? []) [received.items, received.bytes] = [received.items + 1, received.bytes + JSON.stringify(r).length];
    return response;
  };
  return async () => {
    const containers = await cosmosContainers();
    const runs = bound(containers.runs, (prop) =>
      prop === 'items'
        ? bound(containers.runs.items, (p) =>
            p === 'query'
              ? (...args: Parameters<typeof containers.runs.items.query>) => {
                  const iterator = containers.runs.items.query(...args);
                  return bound(iterator, (q) => (q === 'fetchAll' ? async () => count(await iterator.fetchAll()) : q === 'fetchNext' ? async () => count(await iterator.fetchNext()) : undefined));
                }
              : undefined,
          )
        : undefined,
    );
    return { ...containers, runs };
  };
}

describe('Cosmos DB adapter: a page read bounded in bytes', () => {
  it('when a page of large runs is asked with a large limit, then the read stops once it passes the byte budget (about one answer page of Cosmos), not after limit documents', async () => {
    const model = `rb-${Date.now().toString(36)}`;
    // 60 runs of ~100 KB: 6 MB in all, of which a page holds two.
    const ids = Array.from({ length: 60 }, (_, n) => `r${String(n).padStart(2, '0')}`);
    for (const [n, id] of ids.entries()) await store.runs.create(model, id, anInferenceRun(model, id, { createdAt: new Date(Date.UTC(2026, 2, 1, n)).toISOString(), error: 'x'.repeat(100_000) }));
    const received = { items: 0, bytes: 0 };
    const counted = cosmosRunStore(countingContainers(received));

    const page = await counted.runs.listReadablePage(model, { limit: 1000, maxBytes: 250_000 });

    expect(page.documents.map((r) => r.runId)).toEqual(['r59', 'r58']);
    expect(page.next).toEqual({ at: new Date(Date.UTC(2026, 2, 1, 58)).toISOString(), id: 'r58' });
    // One answer page of the read (and the entry re-read for its time), not the 60 the limit allows.
    expect(received.items).toBeLessThanOrEqual(26);
    expect(received.bytes).toBeLessThan(3_000_000);
  });
});
