import {
  evaluateExpression,
  expressionColumns,
  ExpressionSyntaxError,
  parseExpression,
} from '../../../shared/domain/transforms/expression';

/** Evaluates on one row whose columns are given as numbers. */
function value(source: string, row: Record<string, number> = {}): number {
  const columns = new Map(Object.entries(row).map(([k, v]) => [k, Float64Array.of(v)]));
  const out = evaluateExpression(
    parseExpression(source),
    (name) => {
      const c = columns.get(name);
      if (!c) throw new Error(`unknown column ${name}`);
      return c;
    },
    1,
  );
  return out[0]!;
}

function syntaxError(source: string): ExpressionSyntaxError {
  try {
    parseExpression(source);
  } catch (e) {
    if (e instanceof ExpressionSyntaxError) return e;
    throw e;
  }
  throw new Error(`'${source}' parsed without error`);
}

describe('expression language', () => {
  it('when operators mix, then * and / bind tighter than + and -, all left-associative', () => {
    expect(value('2 + 3 * 4')).toBe(14);
    expect(value('(2 + 3) * 4')).toBe(20);
    expect(value('10 - 4 - 3')).toBe(3);
    expect(value('24 / 4 / 2')).toBe(3);
    expect(value('2 * 3 + 4 * 5 - 6 / 2')).toBe(23);
  });

  it('when unary minus is used, then it binds tighter than * and can repeat', () => {
    expect(value('-2 * 3')).toBe(-6);
    expect(value('- -4')).toBe(4);
    expect(value('3 - -2')).toBe(5);
    expect(value('-(1 + 2) * 2')).toBe(-6);
  });

  it('when numbers use decimals and exponents, then they are read exactly', () => {
    expect(value('1.5e3 + .25 + 2E-2')).toBe(1500.27);
  });

  it('when functions are called, then log, exp, abs, sqrt, min and max compute as in Math', () => {
    expect(value('log(exp(2))')).toBeCloseTo(2, 12);
    expect(value('abs(-3) + sqrt(16)')).toBe(7);
    expect(value('min(4, x, 9) + max(1, 2)', { x: -1 })).toBe(1);
    expect(value('max(x, 0)', { x: NaN })).toBeNaN();
  });

  it('when columns are referenced, then bare and backtick-quoted names both resolve', () => {
    expect(value('income / `household size` + a_1', { income: 100, 'household size': 4, a_1: 1 })).toBe(26);
    expect(expressionColumns(parseExpression('a + b * a + `c d` + log(b)'))).toEqual(['a', 'b', 'c d']);
  });

  it('when a result is a constant, then every row gets it', () => {
    const out = evaluateExpression(parseExpression('1 + 1'), () => new Float64Array(3), 3);
    expect(Array.from(out)).toEqual([2, 2, 2]);
  });

  it('when intermediates are needed, then few arrays are allocated, reused in place, and columns stay intact', () => {
    const a = Float64Array.of(1, 4, 9);
    const b = Float64Array.of(2, 3, 5);
    let allocated = 0;
    let freed = 0;
    const scratch = {
      alloc: () => {
        allocated += 1;
        return new Float64Array(3);
      },
      free: () => {
        freed += 1;
      },
    };
    const out = evaluateExpression(
      parseExpression('((a + 1) * 2 - b) / 2 + sqrt(abs(a)) - -max(a, b)'),
      (name) => (name === 'a' ? a : b),
      3,
      scratch,
    );
    const expected = [0, 1, 2].map(
      (i) => ((a[i]! + 1) * 2 - b[i]!) / 2 + Math.sqrt(Math.abs(a[i]!)) + Math.max(a[i]!, b[i]!),
    );
    expect(Array.from(out)).toEqual(expected);
    expect(allocated).toBe(3);
    expect(freed).toBe(2);
    expect(Array.from(a)).toEqual([1, 4, 9]);
    expect(Array.from(b)).toEqual([2, 3, 5]);
  });

  it('when an expression is a bare column, then the result is a copy, not the column itself', () => {
    const source = Float64Array.of(1, 2);
    const out = evaluateExpression(parseExpression('x'), () => source, 2);
    out[0] = 99;
    expect(source[0]).toBe(1);
  });

  it.each([
    ['a +', 'unexpected end of expression at column 4'],
    ['(a + b', "expected '\\)' to close the parenthesis but found end of expression at column 7"],
    ['a + * b', "unexpected '\\*' at column 5"],
    ['a b', "unexpected identifier|unexpected 'b' at column 3"],
    ['a ^ 2', "unexpected character '\\^' at column 3"],
    ['pow(a, 2)', "unknown function 'pow' \\(allowed: log, exp, abs, sqrt, min, max\\) at column 1"],
    ['log(a, b)', 'log\\(\\) takes exactly 1 argument\\(s\\), got 2 at column 1'],
    ['max(a)', 'max\\(\\) takes at least 2 argument\\(s\\), got 1'],
    ['sqrt()', 'sqrt\\(\\) needs at least 1 argument'],
    ['1.5e', 'malformed number exponent at column 4'],
    ['2x', "unexpected 'x' after a number at column 2"],
    ['`open', 'unterminated quoted column name at column 1'],
    ['', 'empty expression'],
    ['a + b)', "unexpected '\\)' at column 6"],
  ])('when the expression is %j, then the parse error says where', (source, pattern) => {
    expect(syntaxError(source).message).toMatch(new RegExp(pattern));
  });

  it('when a parse error occurs, then its column is the 1-based position', () => {
    expect(syntaxError('x + (y * )').column).toBe(10);
  });

  it('when an expression tries JavaScript, then it does not parse', () => {
    for (const source of [
      'process.exit(1)',
      'a; b',
      'this["x"]',
      'new Function("x")',
      'a = 1',
      'x => x',
      '"s"',
    ]) {
      expect(() => parseExpression(source)).toThrow(ExpressionSyntaxError);
    }
  });

  it('when identifiers name globals, then they are only column references resolved by the caller', () => {
    const asked: string[] = [];
    const lookup = (name: string): Float64Array => {
      asked.push(name);
      return Float64Array.of(1);
    };
    evaluateExpression(parseExpression('constructor + globalThis + Math + process + __proto__'), lookup, 1);
    expect(asked).toEqual(['constructor', 'globalThis', 'Math', 'process', '__proto__']);
  });

  it('when nesting is absurdly deep, then parsing fails cleanly instead of overflowing the stack', () => {
    expect(() => parseExpression('('.repeat(500) + '1' + ')'.repeat(500))).toThrow(/nested deeper than/);
    expect(() => parseExpression('-'.repeat(500) + '1')).toThrow(/nested deeper than/);
  });
});
