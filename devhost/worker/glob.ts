import fs from 'node:fs';
import path from 'node:path';

/** Expands `{a,b}` alternatives (not nested), as package.json `main` globs use them. */
export function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const [whole, inner = ''] = match;
  const before = pattern.slice(0, match.index);
  const after = pattern.slice(match.index + whole.length);
  return inner.split(',').flatMap((alt) => expandBraces(before + alt + after));
}

/** Converts a glob with `**`, `*` and `?` into an anchored regular expression over `/` paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more directories
      if (glob[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files under `root` matching the glob (brace alternatives allowed), sorted, as absolute paths. */
export function globFiles(root: string, pattern: string): string[] {
  const found = new Set<string>();
  for (const alt of expandBraces(pattern.replace(/\\/g, '/'))) {
    const segments = alt.split('/');
    const firstWild = segments.findIndex((s) => /[*?]/.test(s));
    if (firstWild < 0) {
      const file = path.resolve(root, alt);
      if (fs.existsSync(file) && fs.statSync(file).isFile()) found.add(file);
      continue;
    }
    const base = path.resolve(root, ...segments.slice(0, firstWild));
    const matcher = globToRegExp(segments.slice(firstWild).join('/'));
    for (const rel of walk(base)) if (matcher.test(rel)) found.add(path.join(base, rel));
  }
  return [...found].sort();
}

function walk(dir: string, prefix = ''): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(path.join(dir, e.name), rel);
    return e.isFile() ? [rel] : [];
  });
}
