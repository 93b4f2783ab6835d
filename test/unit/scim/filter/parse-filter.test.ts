import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../../../src/scim/filter/index.js';
import { RFC_FIGURE_2_ASTS, RFC_ROWS, VALID_ROWS, rfcFigure2Filters } from './fixtures.js';

describe('parseFilter: RFC 7644 §3.4.2.2 Figure 2 example filters', () => {
  it('has all 17 examples of the figure', () => {
    expect(rfcFigure2Filters()).toHaveLength(17);
    expect(RFC_FIGURE_2_ASTS).toHaveLength(17);
  });

  it.each(RFC_ROWS())('$filter', ({ filter, ast }) => {
    expect(parseFilter(filter)).toEqual(ast);
  });
});

describe('parseFilter: grammar, precedence, literals and paths', () => {
  it.each(VALID_ROWS)('$filter', ({ filter, ast }) => {
    expect(parseFilter(filter)).toEqual(ast);
  });

  it('keeps attribute names and schema URIs exactly as written', () => {
    expect(parseFilter('NAME.FamilyName eq "x"')).toEqual({ kind: 'compare', path: { attr: 'NAME', subAttr: 'FamilyName' }, op: 'eq', value: 'x' });
  });

  it('normalises operators to lower case in the AST', () => {
    const ops = ['EQ', 'Ne', 'cO', 'SW', 'ew', 'GT', 'ge', 'Lt', 'LE'];
    for (const op of ops) expect(parseFilter(`a ${op} "x"`)).toMatchObject({ op: op.toLowerCase() });
  });

  it('omits schema and subAttr when the client did not write them', () => {
    const node = parseFilter('userName pr');
    expect(node).toStrictEqual({ kind: 'present', path: { attr: 'userName' } });
  });
});
