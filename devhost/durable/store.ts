import fs from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { z } from 'zod';

import { StartupError } from '../startup-error';
import { retryOptionsSchema } from './actions';
import type { HistoryEvent } from './history';

/**
 * The task hub's persistent state in one SQLite file (WAL): instances, their histories, pending
 * messages (completions, timers, external events, control operations) and activity work items.
 * Every state change of an episode or of an activity completion is one transaction, so a process
 * killed at any instant restarts from a consistent hub.
 */

/** Runtime statuses, in the order of DurableTask.Core's OrchestrationStatus numbers (Running = 0). */
export const runtimeStatuses = [
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Pending',
  'Suspended',
] as const;
export const runtimeStatusSchema = z.enum(runtimeStatuses);
export type RuntimeStatus = z.infer<typeof runtimeStatusSchema>;

export function isTerminal(status: RuntimeStatus): boolean {
  return status === 'Completed' || status === 'Failed' || status === 'Terminated' || status === 'Canceled';
}

export const historyEventSchema = z.object({
  EventType: z.number().int(),
  EventId: z.number().int(),
  IsPlayed: z.boolean(),
  Timestamp: z.string(),
  Name: z.string().optional(),
  Input: z.string().optional(),
  Result: z.string().optional(),
  Reason: z.string().optional(),
  Details: z.string().optional(),
  TaskScheduledId: z.number().int().optional(),
  TimerId: z.number().int().optional(),
  FireAt: z.string().optional(),
  InstanceId: z.string().optional(),
  OrchestrationStatus: z.string().optional(),
});

/** A message waiting for the orchestrator: one history event to deliver, or a control operation. */
export const inboxMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('start') }),
  z.object({ kind: z.literal('event'), event: historyEventSchema }),
  z.object({ kind: z.literal('terminate'), reason: z.string() }),
  z.object({ kind: z.literal('suspend'), reason: z.string().optional() }),
  z.object({ kind: z.literal('resume'), reason: z.string().optional() }),
]);
export type InboxMessage = z.infer<typeof inboxMessageSchema>;

/** A retried activity or sub-orchestration, mirrored from the SDK's RetryableTask. */
export const retryStateSchema = z.object({
  kind: z.enum(['activity', 'orchestration']),
  name: z.string(),
  input: z.string().optional(),
  childInstanceId: z.string().optional(),
  options: retryOptionsSchema,
  attempt: z.number().int().min(1),
  firstAttemptAt: z.number(),
  lastReason: z.string().optional(),
  lastDetails: z.string().optional(),
});
export type RetryState = z.infer<typeof retryStateSchema>;

/** What the engine remembers of the current execution beyond its history. */
export const executionStateSchema = z.object({
  /** The SDK's next task id (sequence number), mirrored. */
  nextSeq: z.number().int().min(0),
  /** Every atomic action seen so far, in reply order: the non-determinism check compares them. */
  scheduled: z.array(
    z.object({
      signature: z.string(),
      taskId: z.number().int().nullable(),
      canceled: z.boolean().optional(),
    }),
  ),
  /** Retries by the task id of the attempt in flight. */
  retryAttempts: z.record(z.string(), retryStateSchema),
  /** Retries by the task id of the backoff timer in flight. */
  retryTimers: z.record(z.string(), retryStateSchema),
});
export type ExecutionState = z.infer<typeof executionStateSchema>;

export function freshExecutionState(): ExecutionState {
  return { nextSeq: 0, scheduled: [], retryAttempts: {}, retryTimers: {} };
}

export interface Instance {
  instanceId: string;
  name: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  /** JSON text, or undefined when the orchestration has no input. */
  input: string | undefined;
  output: string | undefined;
  customStatus: string | undefined;
  createdTime: number;
  lastUpdatedTime: number;
  parent: { instanceId: string; executionId: string; taskId: number } | undefined;
  state: ExecutionState;
}

export interface WorkItem {
  id: string;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  /** JSON text of the activity input, or undefined. */
  input: string | undefined;
}

export interface StoredMessage {
  id: number;
  instanceId: string;
  executionId: string | undefined;
  message: InboxMessage;
}

export interface InstanceQuery {
  createdTimeFrom?: number;
  createdTimeTo?: number;
  runtimeStatus?: RuntimeStatus[];
  instanceIdPrefix?: string;
}

const instanceRowSchema = z.object({
  instance_id: z.string(),
  name: z.string(),
  execution_id: z.string(),
  runtime_status: runtimeStatusSchema,
  input: z.string().nullable(),
  output: z.string().nullable(),
  custom_status: z.string().nullable(),
  created_time: z.number(),
  last_updated_time: z.number(),
  parent_instance_id: z.string().nullable(),
  parent_execution_id: z.string().nullable(),
  parent_task_id: z.number().nullable(),
  state: z.string(),
});

const messageRowSchema = z.object({
  id: z.number(),
  instance_id: z.string(),
  execution_id: z.string().nullable(),
  message: z.string(),
});

const workItemRowSchema = z.object({
  id: z.string(),
  instance_id: z.string(),
  execution_id: z.string(),
  task_id: z.number(),
  name: z.string(),
  input: z.string().nullable(),
});

const schema = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  runtime_status TEXT NOT NULL,
  input TEXT, output TEXT, custom_status TEXT,
  created_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  parent_instance_id TEXT, parent_execution_id TEXT, parent_task_id INTEGER,
  state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created_time);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)
);
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT,
  kind TEXT NOT NULL,
  timer_id INTEGER,
  visible_at INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_visible ON inbox(visible_at);
CREATE INDEX IF NOT EXISTS inbox_instance ON inbox(instance_id, id);
CREATE TABLE IF NOT EXISTS work_items (
  id TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  input TEXT
);
CREATE INDEX IF NOT EXISTS work_items_instance ON work_items(instance_id);
`;

export class DurableStore {
  private readonly db: Database.Database;
  /** Histories are append-only per execution; keep them in memory after the first read. */
  private readonly historyCache = new Map<string, HistoryEvent[]>();

  constructor(readonly file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a committed transaction survives a killed process (not a power cut).
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.exec(schema);
    } catch (err) {
      db.close();
      const code = (err as { code?: unknown }).code;
      if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw err;
      throw new StartupError(
        `${file} is not a readable task hub (${String((err as { message?: unknown }).message ?? err)}). ` +
          `To start anyway, delete it with its -wal and -shm files beside it: every orchestration's state is lost (or delete the whole data folder to start with no local data).`,
        { cause: err },
      );
    }
    this.db = db;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn)();
  }

  getInstance(instanceId: string): Instance | undefined {
    const row = this.db.prepare('SELECT * FROM instances WHERE instance_id = ?').get(instanceId);
    return row === undefined ? undefined : toInstance(row);
  }

  putInstance(instance: Instance): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO instances (instance_id, name, execution_id, runtime_status, input, output,
           custom_status, created_time, last_updated_time, parent_instance_id, parent_execution_id, parent_task_id, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        instance.instanceId,
        instance.name,
        instance.executionId,
        instance.runtimeStatus,
        instance.input ?? null,
        instance.output ?? null,
        instance.customStatus ?? null,
        instance.createdTime,
        instance.lastUpdatedTime,
        instance.parent?.instanceId ?? null,
        instance.parent?.executionId ?? null,
        instance.parent?.taskId ?? null,
        JSON.stringify(instance.state),
      );
  }

  /** Removes an instance and everything pending for it. */
  deleteInstance(instanceId: string): boolean {
    const changes = this.db.prepare('DELETE FROM instances WHERE instance_id = ?').run(instanceId).changes;
    this.clearHistory(instanceId);
    this.deletePending(instanceId);
    return changes > 0;
  }

  /** Drops pending messages and work items of an instance (it ended or restarts). */
  deletePending(instanceId: string): void {
    this.db.prepare('DELETE FROM inbox WHERE instance_id = ?').run(instanceId);
    this.db.prepare('DELETE FROM work_items WHERE instance_id = ?').run(instanceId);
  }

  history(instanceId: string): HistoryEvent[] {
    let events = this.historyCache.get(instanceId);
    if (events === undefined) {
      const rows = this.db
        .prepare<unknown[], { event: string }>('SELECT event FROM history WHERE instance_id = ? ORDER BY seq')
        .all(instanceId);
      events = rows.map((r) => historyEventSchema.parse(JSON.parse(r.event)) as HistoryEvent);
      this.historyCache.set(instanceId, events);
    }
    return events;
  }

  appendHistory(instanceId: string, events: readonly HistoryEvent[]): void {
    const current = this.history(instanceId);
    const insert = this.db.prepare('INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)');
    events.forEach((e, i) => insert.run(instanceId, current.length + i, JSON.stringify(e)));
    current.push(...events);
  }

  clearHistory(instanceId: string): void {
    this.db.prepare('DELETE FROM history WHERE instance_id = ?').run(instanceId);
    this.historyCache.set(instanceId, []);
  }

  /** Forget cached histories (after a failed transaction rolled the file back). */
  dropCache(instanceId: string): void {
    this.historyCache.delete(instanceId);
  }

  enqueue(
    instanceId: string,
    executionId: string | undefined,
    message: InboxMessage,
    visibleAt: number,
  ): void {
    const kind = message.kind === 'event' || message.kind === 'start' ? message.kind : 'control';
    const timerId =
      message.kind === 'event' && message.event.EventType === 11 ? (message.event.TimerId ?? null) : null;
    this.db
      .prepare(
        'INSERT INTO inbox (instance_id, execution_id, kind, timer_id, visible_at, message) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(instanceId, executionId ?? null, kind, timerId, visibleAt, JSON.stringify(message));
  }

  visibleMessages(instanceId: string, now: number): StoredMessage[] {
    return this.db
      .prepare(
        'SELECT id, instance_id, execution_id, message FROM inbox WHERE instance_id = ? AND visible_at <= ? ORDER BY id',
      )
      .all(instanceId, now)
      .map((raw) => {
        const row = messageRowSchema.parse(raw);
        return {
          id: row.id,
          instanceId: row.instance_id,
          executionId: row.execution_id ?? undefined,
          message: inboxMessageSchema.parse(JSON.parse(row.message)),
        };
      });
  }

  deleteMessages(ids: readonly number[]): void {
    const del = this.db.prepare('DELETE FROM inbox WHERE id = ?');
    for (const id of ids) del.run(id);
  }

  cancelTimer(instanceId: string, timerId: number): void {
    this.db.prepare('DELETE FROM inbox WHERE instance_id = ? AND timer_id = ?').run(instanceId, timerId);
  }

  /** Instances with a message to handle now (a suspended one only for control messages). */
  readyInstances(now: number): string[] {
    return this.db
      .prepare<unknown[], { instance_id: string }>(
        `SELECT DISTINCT m.instance_id FROM inbox m LEFT JOIN instances i ON i.instance_id = m.instance_id
         WHERE m.visible_at <= ? AND (i.runtime_status IS NULL OR i.runtime_status != 'Suspended' OR m.kind = 'control')`,
      )
      .all(now)
      .map((r) => r.instance_id);
  }

  /** The earliest future moment a message becomes visible, for the wake-up timer. */
  nextVisibleAt(now: number): number | undefined {
    const row = this.db
      .prepare<unknown[], { at: number | null }>(
        'SELECT MIN(visible_at) AS at FROM inbox WHERE visible_at > ?',
      )
      .get(now);
    return row?.at ?? undefined;
  }

  addWorkItem(item: WorkItem): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO work_items (id, instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(item.id, item.instanceId, item.executionId, item.taskId, item.name, item.input ?? null);
  }

  workItems(limit: number): WorkItem[] {
    return this.db
      .prepare('SELECT * FROM work_items ORDER BY rowid LIMIT ?')
      .all(limit)
      .map((raw) => {
        const row = workItemRowSchema.parse(raw);
        return {
          id: row.id,
          instanceId: row.instance_id,
          executionId: row.execution_id,
          taskId: row.task_id,
          name: row.name,
          input: row.input ?? undefined,
        };
      });
  }

  /**
   * Records an activity's outcome exactly once: removes the work item and queues the completion
   * for its orchestrator in one transaction. A second completion of the same item is ignored.
   */
  completeWorkItem(item: WorkItem, event: HistoryEvent, now: number): boolean {
    return this.transaction(() => {
      const removed = this.db.prepare('DELETE FROM work_items WHERE id = ?').run(item.id).changes;
      if (removed === 0) return false;
      this.enqueue(item.instanceId, item.executionId, { kind: 'event', event }, now);
      return true;
    });
  }

  countWorkItems(): number {
    const row = this.db.prepare<unknown[], { n: number }>('SELECT COUNT(*) AS n FROM work_items').get();
    return row?.n ?? 0;
  }

  queryInstances(query: InstanceQuery, offset: number, limit: number): Instance[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.createdTimeFrom !== undefined) {
      where.push('created_time >= ?');
      params.push(query.createdTimeFrom);
    }
    if (query.createdTimeTo !== undefined) {
      where.push('created_time <= ?');
      params.push(query.createdTimeTo);
    }
    if (query.runtimeStatus !== undefined && query.runtimeStatus.length > 0) {
      where.push(`runtime_status IN (${query.runtimeStatus.map(() => '?').join(', ')})`);
      params.push(...query.runtimeStatus);
    }
    if (query.instanceIdPrefix !== undefined) {
      where.push('substr(instance_id, 1, ?) = ?');
      params.push(query.instanceIdPrefix.length, query.instanceIdPrefix);
    }
    const sql = `SELECT * FROM instances ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_time, instance_id LIMIT ? OFFSET ?`;
    return this.db
      .prepare(sql)
      .all(...params, limit, offset)
      .map(toInstance);
  }
}

function toInstance(raw: unknown): Instance {
  const row = instanceRowSchema.parse(raw);
  return {
    instanceId: row.instance_id,
    name: row.name,
    executionId: row.execution_id,
    runtimeStatus: row.runtime_status,
    input: row.input ?? undefined,
    output: row.output ?? undefined,
    customStatus: row.custom_status ?? undefined,
    createdTime: row.created_time,
    lastUpdatedTime: row.last_updated_time,
    parent:
      row.parent_instance_id !== null && row.parent_execution_id !== null && row.parent_task_id !== null
        ? {
            instanceId: row.parent_instance_id,
            executionId: row.parent_execution_id,
            taskId: row.parent_task_id,
          }
        : undefined,
    state: executionStateSchema.parse(JSON.parse(row.state)),
  };
}
