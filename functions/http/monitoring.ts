import { registry, runStore } from '../../shared/composition';
import { modelParamsSchema, monitoringAnswerSchema, monitoringQuerySchema } from '../../shared/schemas/api';
import { readMonitorState } from '../../shared/usecases/drift-monitor';
import { defineRoute } from './api';
import { ROLES } from './identity';

defineRoute({
  name: 'getMonitoring',
  method: 'GET',
  route: 'models/{model}/monitoring',
  summary: "The model's monitoring windows with their drift and performance verdicts, newest first (?from=&to= ISO 8601)",
  description:
    'A window is listed when it overlaps [from, to). `monitor` says up to where the drift monitor has evaluated (null before its first run, or when its stored document cannot be read: then it is listed in `unreadable` with id `monitor`).',
  tags: ['monitoring'],
  access: ROLES.reader,
  params: modelParamsSchema,
  query: monitoringQuerySchema,
  responses: { 200: { description: 'Monitoring windows; windows (and the monitor state, id `monitor`) whose stored document cannot be read apart, by id, with the reason', schema: monitoringAnswerSchema } },
  handler: async ({ params, query }) => {
    await registry().getModel(params.model);
    const from = query.from === undefined ? -Infinity : Date.parse(query.from);
    const to = query.to === undefined ? Infinity : Date.parse(query.to);
    // A range is a query on the window times: a model's whole history is read only when asked for.
    const stored = query.from === undefined && query.to === undefined ? runStore().windows.listReadable(params.model) : runStore().windows.listReadableOverlapping(params.model, query);
    const [{ documents: windows, unreadable }, monitor] = await Promise.all([stored, readMonitorState(runStore(), params.model)]);
    const listed = windows
      .filter((w) => Date.parse(w.window.end) > from && Date.parse(w.window.start) < to)
      .sort((a, b) => Date.parse(b.window.start) - Date.parse(a.window.start));
    // A monitor state that does not read is listed apart under its id (`monitor`), as the windows are.
    if ('unreadable' in monitor) return { status: 200, body: { model: params.model, monitor: null, windows: listed, unreadable: [monitor.unreadable, ...unreadable] } };
    return { status: 200, body: { model: params.model, monitor: monitor.state?.value ?? null, windows: listed, unreadable } };
  },
});
