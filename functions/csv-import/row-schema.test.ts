import { RejectedInput } from '#shared/errors';
import { readHeader, rowToItem, typeCell, typeDate, typeNumber, valueSize } from './row-schema';
import { people, releases } from './test-datasets';

const header = (cells: string[], d = people) => readHeader(cells, d);
const row = (cells: string[], h = header(['id', 'name', 'email', 'age', 'active']), d = people) => rowToItem(h, cells, d, d.tableKeys);

describe('reading the header', () => {
  it('maps aliases to declared columns and rejects the file without a key column', () => {
    expect(header([' id ', 'E-mail']).columns.map((c) => c.name)).toEqual(['id', 'email']);
    expect(() => header(['name', 'age'])).toThrow(new RejectedInput('the header has no "id" column (data set people; found: name, age)'));
    expect(() => header(['distro', 'arch'], releases)).toThrow(/the header has no "series" column/);
  });

  it('reads past the line and reason columns of a re-uploaded rejected-rows report', () => {
    const h = header(['id', 'name', 'line', 'reason']);
    expect(h.columns.filter((c) => c.ignored).map((c) => c.original)).toEqual(['line', 'reason']);
    expect(row(['u-1', 'Ada', '12', 'missing value'], h)).toEqual({ ok: true, item: { id: 'u-1', name: 'Ada' } });
  });
});

describe('typing cells', () => {
  it.each([
    ['36', 36],
    ['-1.5e3', -1500],
    ['0.1', 0.1],
    ['9007199254740991', 9_007_199_254_740_991],
  ])('number %s -> %p', (text, value) => expect(typeNumber(text)).toEqual({ ok: true, value }));

  it.each([
    ['12abc', 'is not a number: "12abc"'],
    ['Infinity', 'is not a number'],
    ['9007199254740993', '9007199254740993 is beyond 2^53'],
    ['12345678901234567890', 'is beyond 2^53'],
    ['1e200', "outside DynamoDB's number range"],
    ['1e-200', "outside DynamoDB's number range"],
    ['0.12345678901234567891', 'has more digits than a number can hold exactly'],
  ])('refuses number %s: %s', (text, reason) => expect(typeNumber(text)).toEqual({ ok: false, reason: expect.stringContaining(reason) }));

  it('reads ISO 8601 dates and zoned date-times, and nothing else', () => {
    expect(typeDate('2026-02-28')).toEqual({ ok: true, value: '2026-02-28' });
    expect(typeDate('2026-11-24T06:00:00+01:00')).toEqual({ ok: true, value: '2026-11-24T05:00:00.000Z' });
    expect(typeDate('2026-02-30')).toEqual({ ok: false, reason: 'is not a date of the calendar: "2026-02-30"' });
    expect(typeDate('2026-11-24T06:00:00')).toEqual({ ok: false, reason: expect.stringContaining('needs its time zone') });
    expect(typeDate('24/11/2026')).toEqual({ ok: false, reason: expect.stringContaining('is not an ISO 8601 date') });
  });

  it('reads booleans and JSON, refusing what a table cannot hold', () => {
    expect(typeCell('boolean', 'YES')).toEqual({ ok: true, value: true });
    expect(typeCell('boolean', 'constructor')).toEqual({ ok: false, reason: expect.stringContaining('is not a boolean') });
    expect(typeCell('json', '{"a":[1,"x",null]}')).toEqual({ ok: true, value: { a: [1, 'x', null] } });
    expect(typeCell('json', '{"a":')).toMatchObject({ ok: false });
    expect(typeCell('json', '{"big":12345678901234567890}')).toEqual({ ok: false, reason: expect.stringContaining('beyond 2^53') });
  });
});

describe('a row as an item', () => {
  it('types declared columns, keeps undeclared ones as strings and leaves empty cells out', () => {
    const h = header(['id', 'name', 'age', 'active', 'team']);
    expect(row([' 7 ', 'Ada', '36', 'TRUE', 'core'], h)).toEqual({ ok: true, item: { id: '7', name: 'Ada', age: 36, active: true, team: 'core' } });
    expect(row(['8', '', '', 'no', ''], h)).toEqual({ ok: true, item: { id: '8', active: false } });
  });

  it('rejects a row without its key, naming each bad cell', () => {
    expect(row(['  ', 'x', '', '', ''])).toEqual({ ok: false, reason: 'missing value for key column "id"' });
    expect(row(['9', 'x', 'x@y', '12abc', 'maybe'])).toEqual({ ok: false, reason: '"age" is not a number: "12abc"; "active" is not a boolean (true/false/yes/no/1/0): "maybe"' });
  });

  it('treats constructor and __proto__ as column names like any other', () => {
    const h = header(['id', 'constructor', '__proto__', 'toString']);
    const result = row(['1', 'a', 'b', 'c'], h);
    expect(result.ok).toBe(true);
    const item = (result as { item: Record<string, unknown> }).item;
    expect(Object.keys(item)).toEqual(['id', 'constructor', '__proto__', 'toString']);
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(item.constructor).toBe('a');
  });

  it('rejects a value under a column without a name, or under a repeated name', () => {
    const h = header(['id', '', 'email', 'email']);
    expect(row(['1', '', 'a@x', ''], h)).toEqual({ ok: true, item: { id: '1', email: 'a@x' } });
    expect(row(['1', 'stray', 'a@x', ''], h)).toEqual({ ok: false, reason: 'column 2 has no name in the header' });
    expect(row(['1', '', 'a@x', 'b@x'], h)).toEqual({ ok: false, reason: 'column 4 repeats the name "email" of column 3' });
    expect(row(['1', '', 'a@x', '', 'extra'], h)).toEqual({ ok: false, reason: 'column 5 has a value but no header' });
  });

  it('rejects keys and items DynamoDB would refuse', () => {
    expect(row(['k'.repeat(2049), 'x', '', '', ''])).toEqual({ ok: false, reason: 'the key is 2049 bytes; DynamoDB allows 2048 for a partition key' });
    expect(row(['1', 'é'.repeat(210_000), '', '', ''])).toEqual({ ok: false, reason: 'the row makes an item of 410 KB; DynamoDB items are at most 400 KB' });
  });

  it('builds composite keys and sort keys, and rejects undeclared columns when the data set says so', () => {
    const h = header(['distro', 'series', 'arch', 'released', 'meta', 'build'], releases);
    expect(rowToItem(h, ['debian', 'trixie', 'amd64', '2025-08-09', '{"lts":false}', '3'], releases, releases.tableKeys)).toEqual({
      ok: true,
      item: { distro: 'debian', series: 'trixie', arch: 'amd64', released: '2025-08-09', meta: { lts: false }, build: 3, pk: 'debian#trixie', sk: 'amd64' },
    });
    const extra = header(['distro', 'series', 'arch', 'color'], releases);
    expect(rowToItem(extra, ['debian', 'sid', 'amd64', 'red'], releases, releases.tableKeys)).toEqual({ ok: false, reason: 'column "color" is not declared in data set releases' });
  });

  it('sizes attribute values as DynamoDB does', () => {
    expect(valueSize('héllo')).toBe(6);
    expect(valueSize(true)).toBe(1);
    expect(valueSize(123.45)).toBe(4);
    expect(valueSize({ a: [1, 'bc'] })).toBe(3 + 1 + 1 + (3 + 1 + 2 + 1 + 2));
  });
});
