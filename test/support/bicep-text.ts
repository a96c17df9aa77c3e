import fs from 'node:fs';
import path from 'node:path';

/**
 * Just enough of Bicep's syntax to read names and literals out of infra/ without the bicep CLI:
 * comments, quoted strings (with `${...}` inside), braces. Not a parser: tests use it on the
 * shapes infra/ is written in (flat object literals in `var` lists, `key: value` lines).
 */

export const INFRA = path.join(__dirname, '../../infra');

export function readBicep(relative: string): string {
  return stripComments(fs.readFileSync(path.join(INFRA, relative), 'utf8'));
}

/** Every .bicep file under infra/, relative to it. */
export function bicepFiles(dir = INFRA): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return bicepFiles(full);
    return entry.name.endsWith('.bicep') ? [path.relative(INFRA, full)] : [];
  });
}

/** Removes `//` and `/* *\/` comments, leaving strings (which may hold `//`, as URLs do) intact. */
export function stripComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** The index just past the string opening at `start` (a quote); `${...}` may nest quotes. */
function stringEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') i++;
    else if (depth === 0 && c === "'") return i + 1;
    else if (text.startsWith('${', i)) {
      depth++;
      i++;
    } else if (depth > 0 && c === "'") i = stringEnd(text, i) - 1;
    else if (depth > 0 && c === '}') depth--;
  }
  return text.length;
}

/** The balanced `{...}` (or `[...]`) that opens at or after `from`, braces in strings ignored. */
function balanced(text: string, from: number, open = '{', close = '}'): { start: number; end: number } | undefined {
  const start = text.indexOf(open, from);
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") i = stringEnd(text, i) - 1;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return { start, end: i + 1 };
  }
  return undefined;
}

/** The text of the object after `marker` (its first `{`), or throws naming what is missing. */
export function blockAfter(text: string, marker: string, open = '{', close = '}'): string {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`not found in Bicep: ${marker}`);
  const range = balanced(text, at + marker.length - 1, open, close);
  if (!range) throw new Error(`no balanced block after: ${marker}`);
  return text.slice(range.start, range.end);
}

/** Text with every string's contents blanked, so keys and braces can be found by pattern. */
export function blankStrings(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "'") {
      const end = stringEnd(text, i);
      out += `'${' '.repeat(Math.max(0, end - i - 2))}'`;
      i = end - 1;
    } else out += text[i];
  }
  return out;
}

/** Every `key:` of an object literal's text, at any depth (string contents ignored). */
export function objectKeys(block: string): string[] {
  return [...blankStrings(block).matchAll(/(?:^|[{,\n])\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/g)].map((m) => m[1]!);
}

export type BicepValue = string | number | boolean | { expression: string };

/**
 * The `{ ... }` literals in `text` that hold no other object, with their `key: value` entries:
 * quoted strings without interpolation, numbers and booleans as such, anything else as an expression.
 */
export function flatObjects(text: string): Record<string, BicepValue>[] {
  const blanked = blankStrings(text);
  const found: Record<string, BicepValue>[] = [];
  const stack: { start: number; nested: boolean }[] = [];
  for (let i = 0; i < blanked.length; i++) {
    if (blanked[i] === '{') {
      if (stack.length > 0) stack[stack.length - 1]!.nested = true;
      stack.push({ start: i, nested: false });
    } else if (blanked[i] === '}') {
      const open = stack.pop();
      if (open && !open.nested) found.push(entries(text.slice(open.start + 1, i), blanked.slice(open.start + 1, i)));
    }
  }
  return found;
}

function entries(text: string, blanked: string): Record<string, BicepValue> {
  const result: Record<string, BicepValue> = {};
  // Entries end at a newline or a comma outside strings and brackets.
  let depth = 0;
  let from = 0;
  const parts: [number, number][] = [];
  for (let i = 0; i <= blanked.length; i++) {
    const c = blanked[i];
    if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (i === blanked.length || (depth === 0 && (c === ',' || c === '\n'))) {
      parts.push([from, i]);
      from = i + 1;
    }
  }
  for (const [a, b] of parts) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*/.exec(blanked.slice(a, b));
    if (!m) continue;
    result[m[1]!] = literal(text.slice(a + m[0].length, b).trim());
  }
  return result;
}

function literal(raw: string): BicepValue {
  if (/^'[^']*'$/.test(raw) && !raw.includes('${')) return raw.slice(1, -1);
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return { expression: raw };
}

/** The flat object in `text` whose `key` is `value`, or undefined. */
export function objectWith(text: string, key: string, value: BicepValue): Record<string, BicepValue> | undefined {
  const wanted = JSON.stringify(value);
  return flatObjects(text).find((o) => key in o && JSON.stringify(o[key]) === wanted);
}
