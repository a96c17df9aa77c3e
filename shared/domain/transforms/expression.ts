/**
 * The derived-feature expression language: numbers, column references, + - * /, unary minus,
 * parentheses and the functions log, exp, abs, sqrt, min, max. A hand-written tokenizer and
 * recursive-descent parser build an AST; the evaluator walks it over Float64Array columns.
 * Nothing here reaches JavaScript's globals: names resolve only through the caller's lookup.
 *
 * Grammar (see docs/transforms.md):
 *   expression := term (("+" | "-") term)*
 *   term       := unary (("*" | "/") unary)*
 *   unary      := "-" unary | primary
 *   primary    := number | call | column | "(" expression ")"
 *   call       := identifier "(" expression ("," expression)* ")"
 *   column     := identifier | "`" any characters but "`" "`"
 */

export type ExpressionNode =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'negate'; readonly operand: ExpressionNode }
  | {
      readonly kind: 'binary';
      readonly op: '+' | '-' | '*' | '/';
      readonly left: ExpressionNode;
      readonly right: ExpressionNode;
    }
  | { readonly kind: 'call'; readonly fn: ExpressionFunction; readonly args: readonly ExpressionNode[] };

export const expressionFunctions = ['log', 'exp', 'abs', 'sqrt', 'min', 'max'] as const;
export type ExpressionFunction = (typeof expressionFunctions)[number];

const arity: Record<ExpressionFunction, { min: number; max: number }> = {
  log: { min: 1, max: 1 },
  exp: { min: 1, max: 1 },
  abs: { min: 1, max: 1 },
  sqrt: { min: 1, max: 1 },
  min: { min: 2, max: Infinity },
  max: { min: 2, max: Infinity },
};

export const MAX_EXPRESSION_LENGTH = 2000;
const MAX_DEPTH = 64;

/** A parse error with the 1-based column where it was found. */
export class ExpressionSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly column: number,
    readonly source: string,
  ) {
    super(`${reason} at column ${column} of expression "${source}"`);
    this.name = 'ExpressionSyntaxError';
  }
}

type Token =
  | { type: 'number'; value: number; at: number }
  | { type: 'identifier'; value: string; at: number }
  | { type: 'quoted'; value: string; at: number }
  | { type: 'punct'; value: '+' | '-' | '*' | '/' | '(' | ')' | ','; at: number }
  | { type: 'end'; at: number };

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isIdentStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string): boolean => isIdentStart(c) || isDigit(c);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (reason: string, at: number): never => {
    throw new ExpressionSyntaxError(reason, at + 1, source);
  };
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i += 1;
    } else if (isDigit(c) || (c === '.' && isDigit(source.charAt(i + 1)))) {
      const start = i;
      while (isDigit(source.charAt(i))) i += 1;
      if (source.charAt(i) === '.') {
        i += 1;
        while (isDigit(source.charAt(i))) i += 1;
      }
      if (source.charAt(i) === 'e' || source.charAt(i) === 'E') {
        let j = i + 1;
        if (source.charAt(j) === '+' || source.charAt(j) === '-') j += 1;
        if (!isDigit(source.charAt(j))) fail('malformed number exponent', i);
        while (isDigit(source.charAt(j))) j += 1;
        i = j;
      }
      if (isIdentStart(source.charAt(i))) fail(`unexpected '${source.charAt(i)}' after a number`, i);
      const value = Number(source.slice(start, i));
      if (!Number.isFinite(value)) fail('number out of range', start);
      tokens.push({ type: 'number', value, at: start });
    } else if (isIdentStart(c)) {
      const start = i;
      while (isIdentPart(source.charAt(i))) i += 1;
      tokens.push({ type: 'identifier', value: source.slice(start, i), at: start });
    } else if (c === '`') {
      const start = i;
      const close = source.indexOf('`', i + 1);
      if (close < 0) fail('unterminated quoted column name', start);
      if (close === i + 1) fail('empty quoted column name', start);
      tokens.push({ type: 'quoted', value: source.slice(i + 1, close), at: start });
      i = close + 1;
    } else if (c === '+' || c === '-' || c === '*' || c === '/' || c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', value: c, at: i });
      i += 1;
    } else {
      fail(`unexpected character '${c}'`, i);
    }
  }
  tokens.push({ type: 'end', at: source.length });
  return tokens;
}

const describe = (t: Token): string =>
  t.type === 'end'
    ? 'end of expression'
    : t.type === 'number'
      ? `number ${t.value}`
      : t.type === 'quoted'
        ? `\`${t.value}\``
        : `'${t.value}'`;

const isFunctionName = (name: string): name is ExpressionFunction =>
  (expressionFunctions as readonly string[]).includes(name);

/** Parses an expression; throws ExpressionSyntaxError with the position of the first problem. */
export function parseExpression(source: string): ExpressionNode {
  if (source.length > MAX_EXPRESSION_LENGTH)
    throw new ExpressionSyntaxError(
      `expression longer than ${MAX_EXPRESSION_LENGTH} characters`,
      1,
      source.slice(0, 40) + '...',
    );
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { type: 'end', at: source.length };
  const fail = (reason: string, t: Token): never => {
    throw new ExpressionSyntaxError(reason, t.at + 1, source);
  };
  const isPunct = (t: Token, value: string): boolean => t.type === 'punct' && t.value === value;
  const expect = (value: string, context: string): void => {
    const t = peek();
    if (!isPunct(t, value)) fail(`expected '${value}' ${context} but found ${describe(t)}`, t);
    pos += 1;
  };

  const expression = (depth: number): ExpressionNode => {
    if (depth > MAX_DEPTH) fail(`expression nested deeper than ${MAX_DEPTH} levels`, peek());
    let left = term(depth);
    for (let t = peek(); isPunct(t, '+') || isPunct(t, '-'); t = peek()) {
      pos += 1;
      left = { kind: 'binary', op: (t as { value: '+' | '-' }).value, left, right: term(depth) };
    }
    return left;
  };
  const term = (depth: number): ExpressionNode => {
    let left = unary(depth);
    for (let t = peek(); isPunct(t, '*') || isPunct(t, '/'); t = peek()) {
      pos += 1;
      left = { kind: 'binary', op: (t as { value: '*' | '/' }).value, left, right: unary(depth) };
    }
    return left;
  };
  const unary = (depth: number): ExpressionNode => {
    if (isPunct(peek(), '-')) {
      if (depth > MAX_DEPTH) fail(`expression nested deeper than ${MAX_DEPTH} levels`, peek());
      pos += 1;
      return { kind: 'negate', operand: unary(depth + 1) };
    }
    return primary(depth);
  };
  const primary = (depth: number): ExpressionNode => {
    const t = peek();
    if (t.type === 'number') {
      pos += 1;
      return { kind: 'number', value: t.value };
    }
    if (t.type === 'quoted') {
      pos += 1;
      return { kind: 'column', name: t.value };
    }
    if (t.type === 'identifier') {
      pos += 1;
      if (!isPunct(peek(), '(')) return { kind: 'column', name: t.value };
      if (!isFunctionName(t.value))
        fail(`unknown function '${t.value}' (allowed: ${expressionFunctions.join(', ')})`, t);
      const fn = t.value as ExpressionFunction;
      pos += 1;
      const args: ExpressionNode[] = [];
      if (isPunct(peek(), ')')) fail(`${fn}() needs at least ${arity[fn].min} argument(s)`, peek());
      args.push(expression(depth + 1));
      while (isPunct(peek(), ',')) {
        pos += 1;
        args.push(expression(depth + 1));
      }
      expect(')', `to close the arguments of ${fn}`);
      if (args.length < arity[fn].min || args.length > arity[fn].max) {
        const { min, max } = arity[fn];
        const wanted = min === max ? `exactly ${min}` : `at least ${min}`;
        fail(`${fn}() takes ${wanted} argument(s), got ${args.length}`, t);
      }
      return { kind: 'call', fn, args };
    }
    if (isPunct(t, '(')) {
      pos += 1;
      const inner = expression(depth + 1);
      expect(')', 'to close the parenthesis');
      return inner;
    }
    return fail(`unexpected ${describe(t)}`, t);
  };

  if (peek().type === 'end') fail('empty expression', peek());
  const ast = expression(0);
  const rest = peek();
  if (rest.type !== 'end') fail(`unexpected ${describe(rest)}`, rest);
  return ast;
}

/** The column names an expression reads, in first-use order, without duplicates. */
export function expressionColumns(node: ExpressionNode): string[] {
  const seen = new Set<string>();
  const walk = (n: ExpressionNode): void => {
    switch (n.kind) {
      case 'number':
        return;
      case 'column':
        seen.add(n.name);
        return;
      case 'negate':
        walk(n.operand);
        return;
      case 'binary':
        walk(n.left);
        walk(n.right);
        return;
      case 'call':
        n.args.forEach(walk);
        return;
    }
  };
  walk(node);
  return [...seen];
}

type Value = number | Float64Array;

const unaryFns: Record<'log' | 'exp' | 'abs' | 'sqrt', (x: number) => number> = {
  log: Math.log,
  exp: Math.exp,
  abs: Math.abs,
  sqrt: Math.sqrt,
};

/**
 * Where intermediate arrays come from and go back to. Arrays the evaluator allocated are
 * overwritten in place by later operations, so a long expression needs few of them.
 */
export interface Scratch {
  alloc(): Float64Array;
  free(values: Float64Array): void;
}

const heapScratch = (length: number): Scratch => ({
  alloc: () => new Float64Array(length),
  free: () => undefined,
});

class Evaluator {
  private readonly mine = new Set<Float64Array>();

  constructor(
    private readonly length: number,
    private readonly scratch: Scratch,
  ) {}

  isMine(v: Value): v is Float64Array {
    return typeof v !== 'number' && this.mine.has(v);
  }

  fresh(): Float64Array {
    const out = this.scratch.alloc();
    this.mine.add(out);
    return out;
  }

  free(v: Value): void {
    if (this.isMine(v)) {
      this.mine.delete(v);
      this.scratch.free(v);
    }
  }

  mapUnary(v: Value, f: (x: number) => number): Value {
    if (typeof v === 'number') return f(v);
    const out = this.isMine(v) ? v : this.fresh();
    const n = this.length;
    for (let i = 0; i < n; i += 1) out[i] = f(v[i]!);
    return out;
  }

  combine(a: Value, b: Value, op: '+' | '-' | '*' | '/' | 'min' | 'max'): Value {
    const f = binaryFns[op];
    if (typeof a === 'number' && typeof b === 'number') return f(a, b);
    // Element i of the output depends only on element i of the inputs: writing into an input
    // the evaluator owns is safe.
    const out = this.isMine(a) ? a : this.isMine(b) ? b : this.fresh();
    const n = this.length;
    if (typeof a === 'number') {
      const bb = b as Float64Array;
      for (let i = 0; i < n; i += 1) out[i] = f(a, bb[i]!);
    } else if (typeof b === 'number') {
      for (let i = 0; i < n; i += 1) out[i] = f(a[i]!, b);
    } else {
      switch (op) {
        case '+':
          for (let i = 0; i < n; i += 1) out[i] = a[i]! + b[i]!;
          break;
        case '-':
          for (let i = 0; i < n; i += 1) out[i] = a[i]! - b[i]!;
          break;
        case '*':
          for (let i = 0; i < n; i += 1) out[i] = a[i]! * b[i]!;
          break;
        case '/':
          for (let i = 0; i < n; i += 1) out[i] = a[i]! / b[i]!;
          break;
        default:
          for (let i = 0; i < n; i += 1) out[i] = f(a[i]!, b[i]!);
      }
    }
    if (out !== a) this.free(a);
    if (out !== b) this.free(b);
    return out;
  }
}

// Math.min/max return NaN when either side is NaN: a missing input stays missing.
const binaryFns: Record<'+' | '-' | '*' | '/' | 'min' | 'max', (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  min: Math.min,
  max: Math.max,
};

/**
 * Evaluates an expression over `length` rows. `column` returns the values of a referenced column
 * (the caller decides which names exist; they are never written to). The result may contain NaN
 * or ±Infinity: the caller decides what a non-finite value means. The result is a fresh array
 * from `scratch` (never one of the caller's columns).
 */
export function evaluateExpression(
  node: ExpressionNode,
  column: (name: string) => Float64Array,
  length: number,
  scratch: Scratch = heapScratch(length),
): Float64Array {
  const ev = new Evaluator(length, scratch);
  const evalNode = (n: ExpressionNode): Value => {
    switch (n.kind) {
      case 'number':
        return n.value;
      case 'column':
        return column(n.name);
      case 'negate':
        return ev.mapUnary(evalNode(n.operand), (x) => -x);
      case 'binary':
        return ev.combine(evalNode(n.left), evalNode(n.right), n.op);
      case 'call': {
        if (n.fn === 'min' || n.fn === 'max') {
          let acc = evalNode(n.args[0]!);
          for (const arg of n.args.slice(1)) acc = ev.combine(acc, evalNode(arg), n.fn);
          return acc;
        }
        return ev.mapUnary(evalNode(n.args[0]!), unaryFns[n.fn]);
      }
    }
  };
  const result = evalNode(node);
  if (ev.isMine(result)) return result;
  const out = scratch.alloc();
  if (typeof result === 'number') out.fill(result);
  else out.set(result);
  return out;
}
