import { errors } from './errors';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/** A drive letter (`C:`) or a URL scheme (`file:`, `https:`): not a path relative to a folder. */
const SCHEME_OR_DRIVE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

const shown = (path: string) => JSON.stringify(path.replace(CONTROL_CHARACTERS, '?').slice(0, 200));

/**
 * Resolves `relative`, a path written in a package (a version manifest's `artifact.path`),
 * against the folder that holds the package: its prefix in the data lake, or the manifest's
 * folder on disk, "/"-separated either way. The result is `folder/<normalized relative path>`
 * and always lies inside the folder: absolute paths, drive letters and URLs, backslashes (a
 * separator on Windows, a name character in blob names), control characters, and `..` segments
 * that climb out of the folder are refused with VALIDATION_ERROR. `.` and `..` that stay inside
 * are resolved. Symbolic links are the file system's business: a caller on disk checks where
 * the resolved path really leads (cli/score.ts does).
 */
export function resolveInside(folder: string, relative: string, what = 'artifact.path'): string {
  const refuse = (why: string) => errors.validation(`${what} ${shown(relative)} ${why}`, { path: relative.slice(0, 200) });
  if (relative.length === 0) throw refuse('is empty');
  if (CONTROL_CHARACTERS.test(relative)) throw refuse('contains control characters');
  if (relative.includes('\\')) throw refuse('contains a backslash: separate folders with "/"');
  if (relative.startsWith('/') || SCHEME_OR_DRIVE.test(relative)) throw refuse("is absolute: give it relative to the manifest's folder");
  const segments: string[] = [];
  for (const segment of relative.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') segments.push(segment);
    else if (segments.pop() === undefined) throw refuse("leads out of the manifest's folder");
  }
  if (segments.length === 0) throw refuse('names the folder itself, not a file in it');
  const inside = segments.join('/');
  if (folder === '') return inside;
  return folder.endsWith('/') ? `${folder}${inside}` : `${folder}/${inside}`;
}
