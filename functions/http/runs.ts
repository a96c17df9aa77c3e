import { z } from 'zod';

import { batch, dataLake, registry, registryStore } from '../../shared/composition';
import { isDomainError, parseOrThrow } from '../../shared/domain/errors';
import { parseJsonText } from '../../shared/domain/json-text';
import { lakePaths } from '../../shared/domain/lake-paths';
import { holdsAnyDocument } from '../../shared/ports/run-store';
import { modelParamsSchema } from '../../shared/schemas/api';
import { inferenceRunSchema, type PredictionManifest, predictionManifestSchema, runStateSchema, unreadableDocumentsSchema } from '../../shared/schemas/monitoring';
import { pageLinksShape, pageQueryShape } from '../../shared/schemas/paging';
import { readInferenceRun } from '../../shared/usecases/item-reads';
import { defineRoute } from './api';
import { ROLES } from './identity';
import { pageLinks, pageRequest } from './paging';

const runParamsSchema = modelParamsSchema.extend({ runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/) });
const runsQuerySchema = z.strictObject({ state: runStateSchema.optional(), ...pageQueryShape });

defineRoute({
  name: 'listRuns',
  method: 'GET',
  route: 'models/{model}/runs',
  summary: "The model's inference runs, newest first (?state=), a page at a time (?limit=&continuationToken=); also the waiting runs of drops for a model not registered yet",
  tags: ['runs'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: runsQuerySchema,
  responses: {
    200: {
      description:
        'A page of runs, newest first by createdAt (then runId); runs on it whose stored document cannot be read apart, by id, with the reason (with ?state=, those whose stored state is that one or none of the states), after the others when their createdAt cannot be read. continuationToken and nextLink lead to the next page (null on the last).',
      schema: z.object({ runs: z.array(inferenceRunSchema), unreadable: unreadableDocumentsSchema, ...pageLinksShape }),
    },
  },
  handler: async ({ params, query, request }) => {
    const page = await batch().runs.runs.listReadablePage(params.model, { ...pageRequest(query), ...(query.state !== undefined ? { state: query.state } : {}) });
    // A drop can arrive before its model is registered (its run waits): those runs are listed;
    // a name with neither a model nor runs is a 404 like every other route. An empty page of a
    // filter (or past the end) is no sign of that: the unfiltered first page tells.
    if (page.documents.length === 0 && page.unreadable.length === 0 && !(await holdsAnyDocument(batch().runs.runs, params.model))) await registry().getModel(params.model);
    return { status: 200, body: { runs: page.documents, unreadable: page.unreadable, ...pageLinks(request, page.next) } };
  },
});

defineRoute({
  name: 'getRun',
  method: 'GET',
  route: 'models/{model}/runs/{runId}',
  summary: 'A run: counts, quarantined rows by reason, the predictions manifest with links to its parts',
  description:
    'A run of a drop for a model not registered yet reads too. 404 MODEL_NOT_FOUND for a name with neither a model nor runs, NOT_FOUND (naming runId) for an unknown run; a run whose stored document no longer reads is a 500 DOCUMENT_UNREADABLE with the reason the list gives.',
  tags: ['runs'],
  access: ROLES.reader,
  params: runParamsSchema,
  responses: {
    200: {
      description: 'The run',
      schema: z.object({
        run: inferenceRunSchema,
        /** null before the run completed, or when its manifest cannot be read (then `manifestUnreadable` says why). */
        manifest: predictionManifestSchema.nullable(),
        manifestUnreadable: z.string().optional(),
        quarantine: z.array(z.string()),
      }),
    },
  },
  handler: async ({ params }) => {
    const run = await readInferenceRun({ runs: batch().runs, registry: registryStore() }, params.model, params.runId);
    const lake = dataLake();
    let manifest: PredictionManifest | null = null;
    let manifestUnreadable: string | undefined;
    if (run.version !== null && run.state === 'completed') {
      const path = lakePaths.predictionManifest(params.model, run.version, run.runId);
      try {
        manifest = parseOrThrow(predictionManifestSchema, parseJsonText((await lake.readBuffer(path)).toString('utf8')), 'predictions manifest');
      } catch (error) {
        // Predictions aged out by a retention policy, or a manifest damaged in storage: the run is
        // still the run (not a 404 for a run the list shows, a 500, or a 400 blaming the caller).
        if (!(error instanceof SyntaxError) && !(isDomainError(error) && (error.code === 'NOT_FOUND' || error.code === 'VALIDATION_ERROR'))) throw error;
        manifestUnreadable = `${path}: ${error.message}`;
      }
    }
    const quarantine: string[] = [];
    for await (const o of lake.list(lakePaths.quarantineFolder(params.model, run.runId))) quarantine.push(o.path);
    return { status: 200, body: { run, manifest, ...(manifestUnreadable !== undefined ? { manifestUnreadable } : {}), quarantine } };
  },
});
