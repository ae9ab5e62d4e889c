import { datasetFor, DatasetError, parseDatasets } from './datasets';

const people = { name: 'people', key: { partition: 'id' }, columns: { id: 'string', age: 'number' } };
const problems = (inputs: unknown[], keys?: { partitionKey: string; sortKey?: string }) => {
  try {
    parseDatasets(inputs, 'imports/', keys && (() => keys));
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(DatasetError);
    return (error as Error).message;
  }
};

describe('data sets', () => {
  it('default to imports/<name>/, keeping undeclared columns, overwriting rows', () => {
    expect(parseDatasets([people])).toEqual([{ ...people, key: { partition: ['id'] }, prefix: 'imports/people/', undeclared: 'keep', upsert: { mode: 'put' } }]);
  });

  it.each<[string, unknown[], string]>([
    ['an unknown type', [{ ...people, columns: { id: 'string', age: 'int' } }], 'data set "people": columns.age: "int" is not a type (use string, number, boolean, date, json)'],
    ['a key column not declared', [{ ...people, key: { partition: 'uid' } }], 'data set "people": key column "uid" is not declared in columns'],
    ['a numeric key column', [{ ...people, key: { partition: 'age' } }], 'data set "people": key column "age" is number; a key column must be string or date'],
    ['two data sets on one prefix', [people, { ...people, name: 'staff', prefix: 'imports/people/' }], 'data sets "people" and "staff" share the prefix imports/people/'],
    ['a nested prefix', [people, { ...people, name: 'more', prefix: 'imports/people/more/' }], 'data sets "people" and "more" share the prefix imports/people/more/'],
    ['a version column that cannot be compared', [{ ...people, columns: { id: 'string', v: 'boolean' }, upsert: { mode: 'if-newer', versionColumn: 'v' } }], 'upsert.versionColumn "v" is boolean; it must be number or date'],
    ['an alias to nothing', [{ ...people, aliases: { Mail: 'email' } }], 'data set "people": alias "Mail" names column "email", which is not declared'],
    ['a bad name', [{ ...people, name: 'People!' }], 'data set "People!": name: must be lowercase letters'],
    ['the same name twice', [people, people], 'data set "people" is declared twice'],
  ])('refuse %s with a sentence naming the data set and the field', (_what, inputs, message) => {
    expect(problems(inputs)).toContain(message);
  });

  it('must fill their table\'s sort key, and only when it has one', () => {
    expect(problems([people], { partitionKey: 'pk', sortKey: 'sk' })).toContain('its table has a sort key (sk); set key.sort');
  });

  it('are found by the longest prefix of a key', () => {
    const [a, b] = parseDatasets([people, { ...people, name: 'archive', prefix: 'imports/archive/' }]);
    expect(datasetFor([a!, b!], 'imports/people/x.csv')?.name).toBe('people');
    expect(datasetFor([a!, b!], 'imports/cars/x.csv')).toBeUndefined();
  });
});
