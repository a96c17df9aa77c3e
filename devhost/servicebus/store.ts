import fs from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

/** Where a stored message is: ready to receive, set aside by `defer`, or waiting for its time. */
export type MessageState = 'active' | 'deferred' | 'scheduled';

/** One message copy in one receiving entity, as persisted. */
export interface StoredRow {
  seq: number;
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
    `);
    this.insertStmt = this.db.prepare(
      'INSERT INTO messages (entity, state, enqueued_at, expires_at, visible_at, delivery_count, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
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
  }

  /** Inserts a message copy and returns its sequence number (never reused, even after deletes). */
  insert(row: Omit<StoredRow, 'seq'>): number {
    const result = this.insertStmt.run(
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

  delete(seq: number): void {
    this.deleteStmt.run(seq);
  }

  update(seq: number, state: MessageState, deliveryCount: number, visibleAt: number, body: Buffer): void {
    this.updateStmt.run(state, deliveryCount, visibleAt, body, seq);
  }

  setDeliveryCount(seq: number, deliveryCount: number): void {
    this.countStmt.run(deliveryCount, seq);
  }

  /** Runs several writes as one transaction (batched sends, fan-out to subscriptions). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  all(): StoredRow[] {
    const rows = this.db.prepare('SELECT * FROM messages ORDER BY seq').all() as RowShape[];
    return rows.map((r) => ({
      seq: r.seq,
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
