/**
 * Reads of one production record by id: found, which 404 when not (the model or the record), and a
 * stored document that no longer reads told apart from an outage.
 */
import { lakePaths } from '../../shared/domain/lake-paths';
import { modelRecordSchema } from '../../shared/schemas/registry';
import { readActualsItem, readInferenceRun, readMonitoringWindow, readRetrainingRequest } from '../../shared/usecases/item-reads';
import { readStoredDocument } from '../../shared/usecases/stored-document';
import { aModelDefinition, aMonitoringWindow, anActualsRecord, anInferenceRun, aRetrainingRecord } from '../support/builders';
import { InMemoryModelRegistry } from '../support/in-memory-registry';
import { inMemoryRunStore } from '../support/in-memory-run-store';
import { MemoryLake } from '../support/memory-lake';

const W1 = '20260301T0000Z';
const W2 = '20260302T0000Z';

async function world() {
  const registry = new InMemoryModelRegistry();
  const at = '2026-03-01T00:00:00.000Z';
  await registry.createModel(modelRecordSchema.parse({ modelName: 'demand', definition: aModelDefinition({ name: 'demand' }), createdAt: at, updatedAt: at, createdBy: 'alice@example.com', latestVersion: 0 }));
  return { registry, runs: inMemoryRunStore(), lake: new MemoryLake() };
}

describe('reading one production record by id', () => {
  it('when the record is stored, then it comes back as stored', async () => {
    const deps = await world();
    const request = aRetrainingRecord('demand', W1);
    await deps.runs.retraining.create('demand', request.requestId, request);
    await deps.runs.windows.create('demand', W1, aMonitoringWindow('demand', W1, 42));
    await deps.runs.runs.create('demand', 'r1', anInferenceRun('demand', 'r1'));

    expect(await readRetrainingRequest(deps, 'demand', request.requestId)).toEqual(request);
    expect(await readMonitoringWindow(deps, 'demand', W1)).toMatchObject({ window: { id: W1 }, predictions: 42 });
    expect(await readInferenceRun(deps, 'demand', 'r1')).toMatchObject({ runId: 'r1' });
  });

  it('when the model is registered but the record is not stored, then NOT_FOUND names the record by its id', async () => {
    const deps = await world();
    await expect(readRetrainingRequest(deps, 'demand', `retrain:demand:${W2}`)).rejects.toMatchObject({ code: 'NOT_FOUND', details: { model: 'demand', requestId: `retrain:demand:${W2}` } });
    await expect(readMonitoringWindow(deps, 'demand', W2)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(`monitoring window '${W2}'`), details: { windowId: W2 } });
    await expect(readActualsItem(deps, 'demand', 'a9')).rejects.toMatchObject({ code: 'NOT_FOUND', details: { actualsId: 'a9' } });
  });

  it('when the model is unknown, then MODEL_NOT_FOUND; a model not registered that holds records of the kind (a drop before its model) is known', async () => {
    const deps = await world();
    await expect(readRetrainingRequest(deps, 'nope', 'retrain:nope:20260301T0000Z')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(readMonitoringWindow(deps, 'nope', W1)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(readActualsItem(deps, 'nope', 'a1')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });

    await deps.runs.runs.create('early', 'r1', anInferenceRun('early', 'r1'));
    expect(await readInferenceRun(deps, 'early', 'r1')).toMatchObject({ runId: 'r1' });
    await expect(readInferenceRun(deps, 'early', 'r2')).rejects.toMatchObject({ code: 'NOT_FOUND', details: { runId: 'r2' } });
  });

  it('when the stored document no longer reads, then DOCUMENT_UNREADABLE names it with the reason the lists give', async () => {
    const deps = await world();
    deps.runs.windows.storeUnchecked('demand', W1, { modelName: 'demand', window: 'not a window' });
    const listed = (await deps.runs.windows.listReadable('demand')).unreadable;

    const failure = readMonitoringWindow(deps, 'demand', W1);
    await expect(failure).rejects.toMatchObject({ code: 'DOCUMENT_UNREADABLE', details: { model: 'demand', id: W1, reason: listed[0]!.reason } });
    await expect(failure).rejects.toThrow(`the stored monitoring window '${W1}' of 'demand' cannot be read: its stored window document is invalid`);
  });

  it('when the store fails with an outage, then the outage is thrown as it came (retried), not taken for an unreadable document', async () => {
    const deps = await world();
    await deps.runs.windows.create('demand', W1, aMonitoringWindow('demand', W1));
    deps.runs.windows.get = () => Promise.reject(new Error('ECONNRESET'));
    await expect(readStoredDocument(deps.runs.windows, 'demand', W1)).rejects.toThrow('ECONNRESET');
    await expect(readMonitoringWindow(deps, 'demand', W1)).rejects.toThrow('ECONNRESET');
  });
});

describe('reading one actuals record with its files', () => {
  it("when it counts, then its labelled files are those in its windows' and late matches' folders, not another id's that starts alike; its quarantine is listed", async () => {
    const deps = await world();
    const record = anActualsRecord('demand', 'a1', undefined, {
      windows: [W1],
      quarantineFolder: lakePaths.quarantineFolder('demand', 'a1'),
      lateMatches: [{ runId: 'r7', matched: 2, at: '2026-03-03T00:00:00.000Z', windows: [W2], recordedBy: 'run' }],
    });
    await deps.runs.actuals.create('demand', 'a1', record);
    const files = [
      lakePaths.labelled('demand', W1, 'a1'),
      lakePaths.labelled('demand', W1, 'a12'),
      lakePaths.lateLabelled('demand', W2, 'a1', 'r7'),
      lakePaths.labelled('demand', W2, 'a12'),
      lakePaths.quarantine('demand', 'a1', 'bucket-00000.jsonl'),
      lakePaths.quarantine('demand', 'a12', 'bucket-00000.jsonl'),
    ];
    for (const path of files) await deps.lake.write(path, Buffer.from('x'));

    expect(await readActualsItem(deps, 'demand', 'a1')).toEqual({
      record,
      labelled: [lakePaths.labelled('demand', W1, 'a1'), lakePaths.lateLabelled('demand', W2, 'a1', 'r7')],
      quarantine: [lakePaths.quarantine('demand', 'a1', 'bucket-00000.jsonl')],
    });
  });

  it('when a newer upload replaced it, then its labelled files are those in its replaced folder', async () => {
    const deps = await world();
    const labelledFolder = lakePaths.replacedLabelledFolder('demand', 'a1');
    await deps.runs.actuals.create('demand', 'a1', anActualsRecord('demand', 'a1', undefined, { windows: [W1], replacedBy: { actualsId: 'a2', at: '2026-03-02T00:00:00.000Z', labelledFolder } }));
    await deps.lake.write(lakePaths.replacedLabelled('demand', 'a1', W1), Buffer.from('x'));
    await deps.lake.write(lakePaths.labelled('demand', W1, 'a2'), Buffer.from('x'));

    expect(await readActualsItem(deps, 'demand', 'a1')).toMatchObject({ labelled: [lakePaths.replacedLabelled('demand', 'a1', W1)], quarantine: [] });
  });
});
