/**
 * ASP.NET-style route templates as the Functions host accepts them: literal segments, `{name}`,
 * optional `{name?}`, constraints `{name:int}` (int, long, bool, alpha, guid, double, float,
 * decimal, datetime, minlength(n), maxlength(n), length(n), min(n), max(n), range(a,b), regex(...))
 * and a catch-all `{*rest}`. Matching is case-insensitive on literals, as in the host.
 */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

interface Param {
  name: string;
  optional: boolean;
  catchAll: boolean;
  constraints: Array<(value: string) => boolean>;
}

type Segment = { literal: string } | { param: Param };

export function compileRoute(template: string): CompiledRoute {
  const segments: Segment[] = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s.length > 0)
    .map(parseSegment);

  return {
    template,
    match(path: string) {
      const parts = path
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .filter((s) => s.length > 0);
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i]!;
        const part = parts[i];
        if ('literal' in segment) {
          if (part === undefined || part.toLowerCase() !== segment.literal.toLowerCase()) return undefined;
          continue;
        }
        const { param } = segment;
        if (param.catchAll) {
          const rest = parts.slice(i).map(decode).join('/');
          if (rest) params[param.name] = rest;
          else if (!param.optional) return undefined;
          return params;
        }
        if (part === undefined) {
          if (param.optional && segments.slice(i + 1).every((s) => 'param' in s && s.param.optional)) return params;
          return undefined;
        }
        const value = decode(part);
        if (!param.constraints.every((ok) => ok(value))) return undefined;
        params[param.name] = value;
      }
      return parts.length === segments.length ? params : undefined;
    },
  };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function parseSegment(text: string): Segment {
  const m = /^\{(\*{1,2})?([A-Za-z_][\w]*)((?::[^:?}]+(?:\([^)]*\))?)*)(\?)?\}$/.exec(text);
  if (!m) {
    if (text.includes('{')) throw new Error(`Unsupported route segment "${text}" (one parameter per segment).`);
    return { literal: text };
  }
  const [, star, name = '', constraintText = '', optional] = m;
  const constraints = (constraintText.match(/:([a-z]+)(\(([^)]*)\))?/gi) ?? []).map((c) => {
    const cm = /^:([a-z]+)(?:\(([^)]*)\))?$/i.exec(c)!;
    return constraintFor(cm[1]!.toLowerCase(), cm[2]);
  });
  return { param: { name, optional: optional === '?', catchAll: !!star, constraints } };
}

function constraintFor(kind: string, arg: string | undefined): (v: string) => boolean {
  const n = Number(arg);
  const [lo, hi] = (arg ?? '').split(',').map(Number);
  switch (kind) {
    case 'int':
      return (v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 2147483648;
    case 'long':
      return (v) => /^-?\d+$/.test(v);
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'guid':
      return (v) => /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(v);
    case 'double':
    case 'float':
    case 'decimal':
      return (v) => v.trim() !== '' && Number.isFinite(Number(v));
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'minlength':
      return (v) => v.length >= n;
    case 'maxlength':
      return (v) => v.length <= n;
    case 'length':
      return (v) => v.length === n;
    case 'min':
      return (v) => Number(v) >= n;
    case 'max':
      return (v) => Number(v) <= n;
    case 'range':
      return (v) => Number(v) >= lo! && Number(v) <= hi!;
    case 'regex': {
      const re = new RegExp(arg ?? '');
      return (v) => re.test(v);
    }
    default:
      throw new Error(`Unsupported route constraint "${kind}".`);
  }
}
