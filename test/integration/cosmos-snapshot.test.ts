import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startCosmos } from '../../devhost/services/cosmos';
import { journalFileOf, localCosmosClient, persistCosmos, readSnapshotFile } from '../../devhost/services/cosmos-snapshot';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmos-snapshot-'));
const file = path.join(dir, 'cosmos.json');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function until(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Cosmos snapshots', () => {
  it('when documents change, then a debounced snapshot is written and a new server restores it', async () => {
    const first = await startCosmos();
    const persistence = await persistCosmos(first, file, { debounceMs: 50 });
    const client = localCosmosClient(first);
    const { database } = await client.databases.createIfNotExists({ id: 'snap' });
    const { container } = await database.containers.createIfNotExists({ id: 'docs', partitionKey: '/pk' });
    await container.items.create({ id: 'one', pk: 'a', n: 1 });
    await container.items.create({ id: 'two', pk: 'b', n: 2 });
    await container.item('two', 'b').delete();

    // Written on change, without waiting for stop().
    await until('a snapshot with one document', () => {
      const snap = fs.existsSync(file) ? readSnapshotFile(file) : undefined;
      const items = snap?.databases.find((d) => d.id === 'snap')?.containers[0]?.items ?? [];
      return items.length === 1;
    });
    // A query is not a change: nothing to write.
    await container.items.query('SELECT * FROM c').fetchAll();
    await persistence.stop();
    await first.stop();

    const second = await startCosmos();
    const restored = await persistCosmos(second, file);
    try {
      expect(restored.restored).toBe(1);
      const docs = localCosmosClient(second).database('snap').container('docs');
      const { resource } = await docs.item('one', 'a').read<{ n: number }>();
      expect(resource?.n).toBe(1);
      const { resource: def } = await docs.read();
      expect(def?.partitionKey?.paths).toEqual(['/pk']);
    } finally {
      await restored.stop();
      await second.stop();
    }
  });

  it('when writes never pause, then a snapshot is still written within the longest delay', async () => {
    const busyFile = path.join(dir, 'busy.json');
    const cosmos = await startCosmos();
    const persistence = await persistCosmos(cosmos, busyFile, { debounceMs: 300, maxDelayMs: 600 });
    try {
      const { database } = await localCosmosClient(cosmos).databases.createIfNotExists({ id: 'busy' });
      const { container } = await database.containers.createIfNotExists({ id: 'docs', partitionKey: '/pk' });
      await container.items.create({ id: 'first', pk: 'a' });
      // A write every 50 ms, so the 300 ms pause never comes; only the longest delay saves it.
      let writes = 0;
      const deadline = Date.now() + 3000;
      while (!fs.existsSync(busyFile) && Date.now() < deadline) {
        await container.items.upsert({ id: 'counter', pk: 'a', n: (writes += 1) });
        await new Promise((r) => setTimeout(r, 50));
      }
      const ids = readSnapshotFile(busyFile)?.databases.find((d) => d.id === 'busy')?.containers[0]?.items.map((i) => i.id);
      expect(ids).toContain('first');
      expect(writes).toBeGreaterThan(6); // more than one debounce went by while writing
    } finally {
      await persistence.stop();
      await cosmos.stop();
    }
  });

  it('when the process dies between snapshots, then a new server restores every write it answered, from the journal', async () => {
    const live = path.join(dir, 'live.json');
    const crashed = path.join(dir, 'crashed', 'cosmos.json');
    const first = await startCosmos();
    // No snapshot comes in this test's time: only the journal has the writes.
    const persistence = await persistCosmos(first, live, { debounceMs: 60_000, maxDelayMs: 60_000 });
    try {
      const client = localCosmosClient(first);
      const { database } = await client.databases.createIfNotExists({ id: 'crash' });
      const { container } = await database.containers.createIfNotExists({ id: 'docs', partitionKey: '/pk' });
      await container.items.create({ id: 'one', pk: 'a', n: 1 });
      await container.items.create({ id: 'two', pk: 'b', n: 2 });
      await container.items.create({ id: 'three', pk: 'a', n: 3 });
      const { resource: one } = await container.item('one', 'a').read<{ id: string; pk: string; n: number }>();
      await container.item('one', 'a').replace({ ...one!, n: 10 }, { accessCondition: { type: 'IfMatch', condition: one!._etag } });
      await container.item('two', 'b').delete();
      await expect(container.item('one', 'a').replace({ ...one!, n: 99 }, { accessCondition: { type: 'IfMatch', condition: one!._etag } })).rejects.toMatchObject({ code: 412 });
      const { container: other } = await database.containers.createIfNotExists({ id: 'other', partitionKey: '/model' });
      await other.items.upsert({ id: 'x', model: 'm' });

      // What a kill -9 leaves on disk now: no snapshot, the journal (and an append the kill cut short).
      expect(fs.existsSync(live)).toBe(false);
      fs.mkdirSync(path.dirname(crashed), { recursive: true });
      fs.copyFileSync(journalFileOf(live), journalFileOf(crashed));
      fs.appendFileSync(journalFileOf(crashed), '{"op":"upsert","db":"cra');
    } finally {
      await persistence.stop();
      await first.stop();
    }
    // A clean stop folds the journal into the snapshot.
    expect(fs.existsSync(live)).toBe(true);
    expect(fs.existsSync(journalFileOf(live))).toBe(false);

    const second = await startCosmos();
    const restored = await persistCosmos(second, crashed);
    try {
      const client = localCosmosClient(second);
      const docs = client.database('crash').container('docs');
      const { resources } = await docs.items.query<{ id: string; n: number }>('SELECT c.id, c.n FROM c').fetchAll();
      expect(resources.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: 'one', n: 10 },
        { id: 'three', n: 3 },
      ]);
      expect((await client.database('crash').container('other').item('x', 'm').read()).resource).toMatchObject({ id: 'x', model: 'm' });
      expect((await client.database('crash').container('other').read()).resource?.partitionKey?.paths).toEqual(['/model']);
      expect(restored.restored).toBeGreaterThan(0);
      // Replayed, then taken into a snapshot at once: the journal is spent.
      expect(readSnapshotFile(crashed)?.databases.find((d) => d.id === 'crash')?.containers.map((c) => c.id).sort()).toEqual(['docs', 'other']);
      expect(fs.existsSync(journalFileOf(crashed))).toBe(false);
    } finally {
      await restored.stop();
      await second.stop();
    }
  });

  it('when the journal ends with a torn line, then it is cut off with a warning and the next write survives another kill', async () => {
    const torn = path.join(dir, 'torn', 'cosmos.json');
    const afterKill = path.join(dir, 'torn-again', 'cosmos.json');
    fs.mkdirSync(path.dirname(afterKill), { recursive: true });
    const setup = await startCosmos();
    const setupPersistence = await persistCosmos(setup, torn);
    const { database } = await localCosmosClient(setup).databases.createIfNotExists({ id: 'torn' });
    await database.containers.createIfNotExists({ id: 'docs', partitionKey: '/pk' });
    await setupPersistence.stop();
    await setup.stop();
    // A kill cut the first append after that snapshot short: the journal holds only its start.
    fs.writeFileSync(journalFileOf(torn), '{"op":"upsert","db":"torn","coll":"do');

    const warnings: string[] = [];
    const first = await startCosmos();
    const persistence = await persistCosmos(first, torn, { debounceMs: 60_000, maxDelayMs: 60_000, onWarning: (m) => warnings.push(m) });
    try {
      expect(warnings).toEqual([expect.stringContaining(`${journalFileOf(torn)}: dropped a torn last line`)]);
      await localCosmosClient(first).database('torn').container('docs').items.create({ id: 'answered', pk: 'a' });
      // Killed again before any snapshot: what is on disk is the snapshot and the journal.
      fs.copyFileSync(torn, afterKill);
      fs.copyFileSync(journalFileOf(torn), journalFileOf(afterKill));
    } finally {
      await persistence.stop();
      await first.stop();
    }
    const second = await startCosmos();
    const restored = await persistCosmos(second, afterKill);
    try {
      const { resource } = await localCosmosClient(second).database('torn').container('docs').item('answered', 'a').read();
      expect(resource).toMatchObject({ id: 'answered', pk: 'a' });
    } finally {
      await restored.stop();
      await second.stop();
    }
  });

  it('when a journal line before the last is not an entry, then restoring fails naming the file and line, and the journal is kept', async () => {
    const corrupt = path.join(dir, 'corrupt', 'cosmos.json');
    fs.mkdirSync(path.dirname(corrupt), { recursive: true });
    const journal = [
      '{"op":"database","db":"corrupt"}',
      '{"op":"upsert","db":"corrupt","coll":"docs","doc":{"id":"lost"',
      '{"op":"container","db":"corrupt","coll":"docs","partitionKey":{"paths":["/pk"]}}',
      '',
    ].join('\n');
    fs.writeFileSync(journalFileOf(corrupt), journal);
    const cosmos = await startCosmos();
    try {
      await expect(persistCosmos(cosmos, corrupt)).rejects.toThrow(`${journalFileOf(corrupt)} line 2 is not a Cosmos journal entry`);
      expect(fs.readFileSync(journalFileOf(corrupt), 'utf8')).toBe(journal);
      expect(fs.existsSync(corrupt)).toBe(false); // no snapshot took the partial replay in
    } finally {
      await cosmos.stop();
    }
  });

  it('when the snapshot file is cut short, then restoring fails naming the file and how to start anyway', async () => {
    const cut = path.join(dir, 'cut', 'cosmos.json');
    fs.mkdirSync(path.dirname(cut), { recursive: true });
    fs.writeFileSync(cut, JSON.stringify({ version: 1, savedAt: new Date().toISOString(), databases: [] }).slice(0, 30));
    const cosmos = await startCosmos();
    try {
      const failure = persistCosmos(cosmos, cut);
      await expect(failure).rejects.toThrow(`${cut} is not a Cosmos snapshot: not JSON`);
      await expect(failure).rejects.toMatchObject({ name: 'StartupError', message: expect.stringContaining(`move it and the journal beside it (cosmos.journal) away`) });
    } finally {
      await cosmos.stop();
    }
  });

  it('when the snapshot file is not a snapshot, then restoring fails with the file named', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ version: 2 }));
    const cosmos = await startCosmos();
    try {
      await expect(persistCosmos(cosmos, bad)).rejects.toThrow(`${bad} is not a Cosmos snapshot`);
    } finally {
      await cosmos.stop();
    }
  });
});
