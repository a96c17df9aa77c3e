import { createHash } from 'node:crypto';

/**
 * An actuals file's id: readable from its name, unique per file version (path and ETag), and a
 * single path segment (it names the file's labelled data, quarantine and record). Bounded so
 * that ids built on it (`actuals:{model}:{id}`, event ids) stay within their limits.
 */
export function actualsIdOf(path: string, etag: string): string {
  const name = path.split('/').slice(2).join('/');
  const slug = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 60);
  const hash = createHash('sha256').update(`${path}\n${etag}`).digest('hex').slice(0, 16);
  return slug ? `${slug}-${hash}` : hash;
}
