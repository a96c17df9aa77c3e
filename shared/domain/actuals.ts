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

/**
 * Whether actuals that arrived at `at` (ms) from file `actualsId` are later than those of
 * (`otherAt`, `otherId`): the later arrival, then the greater actuals id. Labelled data picks an
 * id's actual by it, and versions of one actuals path are ordered by it.
 */
export function laterActuals(at: number, actualsId: string, otherAt: number, otherId: string): boolean {
  if (at !== otherAt) return at > otherAt;
  return actualsId > otherId;
}

/** One version of an actuals path, as far as telling the newest apart needs. */
export interface ActualsVersion {
  actualsId: string;
  /** The blob's last-modified time (ms). */
  lastModified: number;
  /** The blob holds this version now: no other version can be newer. */
  current: boolean;
}

/**
 * Whether `a` is a newer version of its path than `b`. The version the blob holds now is the
 * newest: Blob Storage stamps whole seconds, so two uploads within one second tie on time and
 * only the blob can say which came last. Otherwise, as labelled data orders actuals.
 */
export function newerActualsVersion(a: ActualsVersion, b: ActualsVersion): boolean {
  if (a.current !== b.current) return a.current;
  return laterActuals(a.lastModified, a.actualsId, b.lastModified, b.actualsId);
}

/** The newest of some versions of one path, or undefined when there are none. */
export function newestActualsVersion<T extends ActualsVersion>(versions: readonly T[]): T | undefined {
  return versions.reduce<T | undefined>((best, v) => (best === undefined || newerActualsVersion(v, best) ? v : best), undefined);
}
