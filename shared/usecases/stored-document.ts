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
