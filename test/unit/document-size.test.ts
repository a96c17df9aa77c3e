import { checkDocumentSize, documentBytes, MAX_DOCUMENT_BYTES } from '../../shared/domain/document-size';

describe('stored document size', () => {
  it('when a document has characters of every UTF-8 length (and lone surrogates), then its size is the bytes Cosmos DB receives', () => {
    for (const text of ['plain', 'é', '€ 10', '😀 emoji', 'a\ud800b', '\udc00', 'mixed ñ € 😀 \u0000 "quoted"']) {
      const doc = { id: 'x', text, nested: [{ text }] };
      expect(documentBytes(doc)).toBe(Buffer.byteLength(JSON.stringify(doc), 'utf8'));
    }
  });

  it('when a document is over the limit by multi-byte characters its length in characters hides, then it is refused with the size and the limit', () => {
    const doc = { reason: '€'.repeat(Math.ceil(MAX_DOCUMENT_BYTES / 3) + 10) };
    expect(JSON.stringify(doc).length).toBeLessThan(MAX_DOCUMENT_BYTES);
    expect(() => checkDocumentSize(doc, 'the ledger entry x')).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', details: { limit: MAX_DOCUMENT_BYTES, bytes: documentBytes(doc) } }));
    expect(() => checkDocumentSize({ reason: 'short' }, 'the ledger entry x')).not.toThrow();
  });
});
