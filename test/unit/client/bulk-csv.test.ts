import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/client/bulk/csv.js';
import { parseCsvImport } from '../../../src/client/bulk/csv-items.js';
import { GROUP_URN, USER_URN } from '../../../src/client/bulk/items.js';
import { parseNdjsonImport } from '../../../src/client/bulk/ndjson-items.js';

const HEADER = 'type,externalId,userName,displayName,givenName,familyName,email,members';

describe('parseCsv (RFC 4180 §2)', () => {
  it('splits records on CRLF or LF and fields on commas', () => {
    expect(parseCsv('a,b,c\r\n1,2,3\n4,,6').map((r) => r.fields)).toEqual([['a', 'b', 'c'], ['1', '2', '3'], ['4', '', '6']]);
  });

  it('keeps commas, line breaks and doubled quotes inside quoted fields, and counts lines across them', () => {
    const recs = parseCsv('x,y\n"a, b","line 1\nline 2"\n"say ""hi""",z\n');
    expect(recs.map((r) => r.fields)).toEqual([['x', 'y'], ['a, b', 'line 1\nline 2'], ['say "hi"', 'z']]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('drops a BOM, skips empty lines, keeps a trailing empty field', () => {
    expect(parseCsv('\uFEFFa,b\n\n1,\n').map((r) => r.fields)).toEqual([['a', 'b'], ['1', '']]);
  });

  it('rejects an unterminated quote, a stray quote and text after a closing quote, naming the line', () => {
    expect(() => parseCsv('a\n"open')).toThrow(/line 2: a quoted field is never closed/);
    expect(() => parseCsv('a\nb"c')).toThrow(/line 2: a quote inside an unquoted field/);
    expect(() => parseCsv('a\n"b"c')).toThrow(/line 2: unexpected text after a closing quote/);
  });
});

describe('CSV import mapping', () => {
  it('maps user and group columns to SCIM resources (README column mapping)', () => {
    const { items, errors } = parseCsvImport(`${HEADER}\nuser,e1,bjensen,Barbara J,Barbara,Jensen,bj@example.com,\ngroup,g1,,Tour Guides,,,,e1; e2 ;e1\nuser,e2,jsmith,,,,,\n`);
    expect(errors).toEqual([]);
    expect(items[0]).toEqual({
      line: 2,
      type: 'user',
      externalId: 'e1',
      resource: { schemas: [USER_URN], externalId: 'e1', userName: 'bjensen', displayName: 'Barbara J', name: { givenName: 'Barbara', familyName: 'Jensen' }, emails: [{ value: 'bj@example.com', type: 'work', primary: true }] },
      members: [],
    });
    expect(items[1]).toEqual({ line: 3, type: 'group', externalId: 'g1', resource: { schemas: [GROUP_URN], externalId: 'g1', displayName: 'Tour Guides' }, members: [{ externalId: 'e1' }, { externalId: 'e2' }] });
    expect(items[2]!.resource).toEqual({ schemas: [USER_URN], externalId: 'e2', userName: 'jsmith' });
  });

  it('accepts columns in any order and case, with only type and externalId required', () => {
    const { items } = parseCsvImport('ExternalID,TYPE,username\nu1,User,alice\n');
    expect(items[0]!.resource).toEqual({ schemas: [USER_URN], externalId: 'u1', userName: 'alice' });
  });

  it('refuses a header with an unknown, repeated or missing column', () => {
    expect(() => parseCsvImport('type,externalId,mail\n')).toThrow(/unknown column 'mail'/);
    expect(() => parseCsvImport('type,externalId,type\n')).toThrow(/appears twice/);
    expect(() => parseCsvImport('type,userName\n')).toThrow(/'externalId' is required/);
    expect(() => parseCsvImport('')).toThrow(/empty/);
  });

  it('reports bad rows with their line and keeps the good ones', () => {
    const { items, errors } = parseCsvImport(
      `${HEADER}\nrobot,r1,,,,,,\nuser,,x,,,,,\nuser,u1,,,,,,\ngroup,g1,,,,,,\ngroup,g2,bob,G,,,,\nuser,u2,ok,,,,,g1\nuser,u3,short\nuser,u4,fine,,,,,\nuser,u4,again,,,,,\n`,
    );
    expect(items.map((i) => i.externalId)).toEqual(['u4']);
    expect(errors.map((e) => [e.line, e.reason])).toEqual([
      [2, "type must be 'user' or 'group', not 'robot'"],
      [3, 'externalId is required'],
      [4, 'userName is required for a user'],
      [5, 'displayName is required for a group'],
      [6, 'userName must be empty for a group'],
      [7, 'members must be empty for a user'],
      [8, 'has 3 fields; the header has 8'],
      [10, "externalId 'u4' is already used on line 9"],
    ]);
  });
});

describe('NDJSON import mapping', () => {
  it('reads SCIM resources, with members by externalId, bulkId:<externalId>, value: <externalId> or a server id', () => {
    const id = '2819c223-7f76-453a-919d-413861904646';
    const { items, errors } = parseNdjsonImport(
      [
        JSON.stringify({ schemas: [USER_URN], externalId: 'u1', userName: 'alice', id: 'ignored', meta: { x: 1 } }),
        '',
        JSON.stringify({
          schemas: [GROUP_URN],
          externalId: 'g1',
          displayName: 'G',
          members: [{ externalId: 'u1' }, { value: 'bulkId:u2', type: 'User' }, { value: id, display: 'x' }, { value: 'u1' }, { value: 'emp-7' }],
        }),
      ].join('\n'),
    );
    expect(errors).toEqual([]);
    expect(items[0]!.resource).toEqual({ schemas: [USER_URN], externalId: 'u1', userName: 'alice' });
    expect(items[1]!.line).toBe(3);
    // A value is an id only when no line has it as externalId and it is shaped like one (a UUID).
    expect(items[1]!.members).toEqual([
      { externalId: 'u1', type: undefined },
      { externalId: 'u2', type: 'User' },
      { value: id, type: undefined },
      { externalId: 'u1', type: undefined },
      { externalId: 'emp-7', type: undefined },
    ]);
    expect(items[1]!.resource).not.toHaveProperty('members');
  });

  it('reports lines that are not JSON, lack schemas or externalId, or carry malformed members', () => {
    const { items, errors } = parseNdjsonImport(
      ['{nope', JSON.stringify({ schemas: ['urn:x'], externalId: 'a' }), JSON.stringify({ schemas: [USER_URN], userName: 'b' }), JSON.stringify({ schemas: [GROUP_URN], externalId: 'g', displayName: 'G', members: [{}] }), JSON.stringify({ schemas: [USER_URN], externalId: 'u', userName: 'u', members: [] })].join('\n'),
    );
    expect(items).toEqual([]);
    expect(errors.map((e) => e.line)).toEqual([1, 2, 3, 4, 5]);
    expect(errors[0]!.reason).toMatch(/not valid JSON/);
    expect(errors[3]!.reason).toMatch(/members\[0\] needs "externalId" or "value"/);
  });
});
