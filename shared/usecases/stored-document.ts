import { errors } from '../domain/errors';
import type { Versioned } from '../ports/model-registry';
import type { DocumentCollection, UnreadableDocument } from '../ports/run-store';

/**
 * One stored document by id: as read, undefined when there is none, or which and why when it no
 * longer reads (damaged, or stored under rules that have since tightened). `get` fails alike on
 * such a document and on an outage; only then is the id listed (one document from it), and the
 * listing, which reads documents one by one, tells the two apart: an outage is thrown again.
 */
export async function readStoredDocument<T>(
  collection: Pick<DocumentCollection<T>, 'get' | 'listReadableInRange'>,
  model: string,
  id: string,
): Promise<Versioned<T> | { unreadable: UnreadableDocument } | undefined> {
  try {
    return await collection.get(model, id);
  } catch (error) {
    const unreadable = (await collection.listReadableInRange(model, { from: id, limit: 1 })).unreadable.find((u) => u.id === id);
    if (unreadable) return { unreadable };
    throw error;
  }
}

/**
 * One stored document by id, undefined when there is none, for a caller that cannot go on without
 * it: one that no longer reads fails with DOCUMENT_UNREADABLE naming it (`kind` says what it is), an
 * expected failure, since asking again would find it as damaged; an outage is thrown as it came, to
 * be retried.
 */
export async function readStoredDocumentOrFail<T>(
  collection: Pick<DocumentCollection<T>, 'get' | 'listReadableInRange'>,
  kind: string,
  model: string,
  id: string,
): Promise<Versioned<T> | undefined> {
  const read = await readStoredDocument(collection, model, id);
  if (read && 'unreadable' in read) throw errors.documentUnreadable(kind, model, read.unreadable.id, read.unreadable.reason);
  return read;
}
