import { parseRowSchema, validateRow } from './row-schema';

const schema = parseRowSchema('id:string, name:string, age:number, active:boolean');

describe('row schema', () => {
  it('parses the declared schema', () => {
    expect(schema).toEqual({ id: 'string', name: 'string', age: 'number', active: 'boolean' });
  });

  it.each([
    ['id:text', /"id:text" is not <column>:<string\|number\|boolean>/],
    ['id:string,id:number', /column "id" is declared twice/],
    ['', /declares no column/],
  ])('rejects the schema %j with a clear message', (text, message) => {
    expect(() => parseRowSchema(text)).toThrow(message);
  });

  it('types the cells of a valid row and keeps undeclared columns as strings', () => {
    expect(validateRow({ id: ' 7 ', name: 'Ada', age: '36', active: 'TRUE', team: 'core' }, schema, 'id')).toEqual({
      ok: true,
      item: { id: '7', name: 'Ada', age: 36, active: true, team: 'core' },
    });
  });

  it('leaves empty optional cells out of the item', () => {
    expect(validateRow({ id: '8', name: '', age: '', active: 'no' }, schema, 'id')).toEqual({ ok: true, item: { id: '8', active: false } });
  });

  it('rejects a row without its key', () => {
    expect(validateRow({ id: '  ', name: 'x' }, schema, 'id')).toEqual({ ok: false, reason: 'missing value for key column "id"' });
    expect(validateRow({ name: 'x' }, schema, 'id')).toEqual({ ok: false, reason: 'missing value for key column "id"' });
  });

  it('rejects cells that do not match their declared type, naming each', () => {
    expect(validateRow({ id: '9', age: '12abc', active: 'maybe' }, schema, 'id')).toEqual({
      ok: false,
      reason: '"age" is not a number: "12abc"; "active" is not a boolean (true/false/yes/no/1/0): "maybe"',
    });
    expect(validateRow({ id: '9', age: 'Infinity' }, schema, 'id').ok).toBe(false);
    expect(validateRow({ id: '9', age: '-1.5e3' }, schema, 'id')).toEqual({ ok: true, item: { id: '9', age: -1500 } });
  });
});
