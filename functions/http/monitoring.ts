import { z } from 'zod';

import { registry, registryStore, runStore } from '../../shared/composition';
import { isWindowId } from '../../shared/domain/windows';
import { modelParamsSchema, monitoringAnswerSchema, monitoringQuerySchema } from '../../shared/schemas/api';
import { monitoringWindowSchema, windowIdSchema } from '../../shared/schemas/monitoring';
import { readMonitorState } from '../../shared/usecases/drift-monitor';
import { readMonitoringWindow } from '../../shared/usecases/item-reads';
import { defineRoute } from './api';
import { ROLES } from './identity';
import { pageLinks, pageRequest } from './paging';

defineRoute({
  name: 'getMonitoring',
  method: 'GET',
  route: 'models/{model}/monitoring',
  summary: "The model's monitoring windows with their drift and performance verdicts, newest first (?from=&to= ISO 8601), a page at a time (?limit=&continuationToken=)",
  description:
    'A window is listed when it overlaps [from, to). `monitor` says up to where the drift monitor has evaluated (null before its first run, or when its stored document cannot be read: then it is listed in `unreadable` with id `monitor`); every page carries it, read when the page is.',
  tags: ['monitoring'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: monitoringQuerySchema,
  responses: {
    200: {
      description:
        'A page of monitoring windows, newest first by start; windows on it (and the monitor state, id `monitor`) whose stored document cannot be read apart, by id, with the reason. continuationToken and nextLink lead to the next page (null on the last).',
      schema: monitoringAnswerSchema,
    },
  },
  handler: async ({ params, query, request }) => {
    await registry().getModel(params.model);
    // A range is a query on the window times, and a page reads only its windows, not the model's history.
    const span = { ...(query.from !== undefined ? { from: query.from } : {}), ...(query.to !== undefined ? { to: query.to } : {}) };
    const [page, monitor] = await Promise.all([runStore().windows.listReadablePage(params.model, { ...pageRequest(query), ...span }), readMonitorState(runStore(), params.model)]);
    const links = pageLinks(request, page.next);
    // A monitor state that does not read is listed apart under its id (`monitor`), as the windows are.
    if ('unreadable' in monitor) return { status: 200, body: { model: params.model, monitor: null, windows: page.documents, unreadable: [monitor.unreadable, ...page.unreadable], ...links } };
    return { status: 200, body: { model: params.model, monitor: monitor.state?.value ?? null, windows: page.documents, unreadable: page.unreadable, ...links } };
  },
});

/** A window id as the list shows it (`window.id`): its UTC start, an instant that exists. */
const windowParamsSchema = modelParamsSchema.extend({
  windowId: windowIdSchema.refine(isWindowId, 'a window id is the UTC start of an instant that exists, as YYYYMMDDTHHmmZ (20260301T0000Z)'),
});

defineRoute({
  name: 'getMonitoringWindow',
  method: 'GET',
  route: 'models/{model}/monitoring/{windowId}',
  summary: 'One monitoring window with its drift and performance verdicts, by its id (its UTC start, YYYYMMDDTHHmmZ)',
  description:
    'The window as the list shows it. 400 for an id that is no window id (the pattern, or an instant that does not exist: 20260230T0000Z), 404 MODEL_NOT_FOUND for an unknown model, NOT_FOUND (naming windowId) for a window not recorded; a window whose stored document no longer reads is a 500 DOCUMENT_UNREADABLE with the reason the list gives.',
  tags: ['monitoring'],
  access: ROLES.reader,
  params: windowParamsSchema,
  responses: { 200: { description: 'The window', schema: z.object({ window: monitoringWindowSchema }) } },
  handler: async ({ params }) => ({ status: 200, body: { window: await readMonitoringWindow({ runs: runStore(), registry: registryStore() }, params.model, params.windowId) } }),
});
