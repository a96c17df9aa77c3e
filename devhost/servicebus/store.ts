import fs from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

/** Where a stored message is: ready to receive, set aside by `defer`, or waiting for its time. */
export type MessageState = 'active' | 'deferred' | 'scheduled';

/**
 * One message copy in one receiving entity (or, while scheduled, in its queue or topic), as
 * persisted. `rowId` is the storage key; `sequenceNumber` is the Service Bus sequence number,
 * issued per queue or topic and shared by a topic's subscription copies.
 */
export interface StoredRow {
  rowId: number;
  sequenceNumber: number;
  entity: string;
  state: MessageState;
  enqueuedAt: number;
  expiresAt: number;
  visibleAt: number;
  deliveryCount: number;
  body: Buffer;
}

interface RowShape {
  seq: number;
  sequence_number: number | null;
  entity: string;
  state: MessageState;
  enqueued_at: number;
  expires_at: number;
  visible_at: number;
  delivery_count: number;
  body: Buffer;
}

/**
 * Durable message storage: one SQLite file in WAL mode. Every accepted message is written before
 * the sender's transfer is acknowledged, and deleted only when completed, so a killed broker
 * loses nothing that was not completed. Locks are deliberately not stored: after a restart every
 * locked message is receivable again, as if its lock had expired.
 */
export class MessageStore {
  private readonly db: Database.Database;
  private readonly insertStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly updateStmt: Database.Statement;
  private readonly countStmt: Database.Statement;
  private readonly dedupInsertStmt: Database.Statement;
  private readonly dedupPurgeStmt: Database.Statement;
  private readonly counterStmt: Database.Statement;

  /** `file` is a path, or ':memory:' for a store that lives as long as the process. */
  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL survives a killed process (the WAL is in the OS page cache); only power loss could drop
    // the last transactions.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sequence_number INTEGER NOT NULL,
        entity TEXT NOT NULL,
        state TEXT NOT NULL,
        enqueued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        delivery_count INTEGER NOT NULL,
        body BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS dedup (
        target TEXT NOT NULL,
        message_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (target, message_id)
      );
      CREATE TABLE IF NOT EXISTS sequence_counters (
        target TEXT PRIMARY KEY,
        last INTEGER NOT NULL
      );
    `);
    this.migrate();
    this.insertStmt = this.db.prepare(
      'INSERT INTO messages (sequence_number, entity, state, enqueued_at, expires_at, visible_at, delivery_count, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.deleteStmt = this.db.prepare('DELETE FROM messages WHERE seq = ?');
    this.updateStmt = this.db.prepare(
      'UPDATE messages SET state = ?, delivery_count = ?, visible_at = ?, body = ? WHERE seq = ?',
    );
    this.countStmt = this.db.prepare('UPDATE messages SET delivery_count = ? WHERE seq = ?');
    this.dedupInsertStmt = this.db.prepare(
      'INSERT OR REPLACE INTO dedup (target, message_id, expires_at) VALUES (?, ?, ?)',
    );
    this.dedupPurgeStmt = this.db.prepare('DELETE FROM dedup WHERE expires_at < ?');
    this.counterStmt = this.db.prepare(
      'INSERT INTO sequence_counters (target, last) VALUES (?, ?) ON CONFLICT (target) DO UPDATE SET last = excluded.last',
    );
  }

  /**
   * Files written before sequence numbers were per entity: their rows keep their row id as their
   * sequence number, and every counter starts above the largest row id ever issued, so no number
   * is reused.
   */
  private migrate(): void {
    const columns = this.db.prepare('PRAGMA table_info(messages)').all() as { name: string }[];
    if (columns.some((c) => c.name === 'sequence_number')) return;
    this.db.exec('ALTER TABLE messages ADD COLUMN sequence_number INTEGER');
    this.db.exec('UPDATE messages SET sequence_number = seq');
    const hasSequence = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get() !== undefined;
    const issued = hasSequence
      ? (this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").get() as { seq: number } | undefined)
      : undefined;
    this.db.prepare('INSERT OR REPLACE INTO sequence_counters (target, last) VALUES (?, ?)').run('*', issued?.seq ?? 0);
  }

  /** The last sequence number issued per queue or topic (lower-cased), and `*` as a floor for all. */
  sequenceCounters(): Map<string, number> {
    const rows = this.db.prepare('SELECT target, last FROM sequence_counters').all() as { target: string; last: number }[];
    return new Map(rows.map((r) => [r.target, r.last]));
  }

  saveSequenceCounter(target: string, last: number): void {
    this.counterStmt.run(target, last);
  }

  /** Inserts a message copy and returns its row id. */
  insert(row: Omit<StoredRow, 'rowId'>): number {
    const result = this.insertStmt.run(
      row.sequenceNumber,
      row.entity,
      row.state,
      row.enqueuedAt,
      row.expiresAt,
      row.visibleAt,
      row.deliveryCount,
      row.body,
    );
    return Number(result.lastInsertRowid);
  }

  delete(rowId: number): void {
    this.deleteStmt.run(rowId);
  }

  update(rowId: number, state: MessageState, deliveryCount: number, visibleAt: number, body: Buffer): void {
    this.updateStmt.run(state, deliveryCount, visibleAt, body, rowId);
  }

  setDeliveryCount(rowId: number, deliveryCount: number): void {
    this.countStmt.run(deliveryCount, rowId);
  }

  /** Runs several writes as one transaction (batched sends, fan-out to subscriptions). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  all(): StoredRow[] {
    const rows = this.db.prepare('SELECT * FROM messages ORDER BY seq').all() as RowShape[];
    return rows.map((r) => ({
      rowId: r.seq,
      sequenceNumber: r.sequence_number ?? r.seq,
      entity: r.entity,
      state: r.state,
      enqueuedAt: r.enqueued_at,
      expiresAt: r.expires_at,
      visibleAt: r.visible_at,
      deliveryCount: r.delivery_count,
      body: r.body,
    }));
  }

  rememberMessageId(target: string, messageId: string, expiresAt: number): void {
    this.dedupInsertStmt.run(target, messageId, expiresAt);
  }

  /** Message ids still inside their duplicate detection window. */
  recentMessageIds(now: number): { target: string; messageId: string; expiresAt: number }[] {
    this.dedupPurgeStmt.run(now);
    const rows = this.db.prepare('SELECT target, message_id, expires_at FROM dedup').all() as {
      target: string;
      message_id: string;
      expires_at: number;
    }[];
    return rows.map((r) => ({ target: r.target, messageId: r.message_id, expiresAt: r.expires_at }));
  }

  purgeMessageIds(now: number): void {
    this.dedupPurgeStmt.run(now);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
