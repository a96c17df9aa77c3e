import { checkDocumentSize, documentTooLarge } from '../../domain/document-size';
import { cosmosStatus } from './client';

/**
 * PAYLOAD_TOO_LARGE, naming the document, before a write Cosmos DB would refuse: Azure answers an
 * opaque 413 (the local server stores any size), which the caller would retry or report as a 500.
 */
export const checkItemSize = checkDocumentSize;

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
