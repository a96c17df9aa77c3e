import { documentTooLarge } from '../../domain/document-size';
import { cosmosStatus } from './client';

/**
 * Runs one write and turns Cosmos DB's own 413 (its accounting may differ from ours by a few
 * bytes) into the same PAYLOAD_TOO_LARGE; any other failure goes on unchanged.
 */
export async function writingItem<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (cosmosStatus(error) === 413) throw documentTooLarge(what);
    throw error;
  }
}
