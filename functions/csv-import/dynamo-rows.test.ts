import { fromAttributes, toAttributes } from './dynamo-rows';
import type { Item } from './row-schema';

describe('items as DynamoDB attributes', () => {
  it('marshals attributes named after what every object has, at the top and inside a JSON cell', () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
    const item: Item = Object.fromEntries([['id', '1'], ...names.map((n) => [n, `v-${n}`]), ['meta', JSON.parse('{"constructor":{"__proto__":1},"n":[true,null]}')]]);

    const attributes = toAttributes(item);

    expect(Object.keys(attributes).sort()).toEqual(['id', 'meta', ...names].sort());
    expect(attributes.constructor).toEqual({ S: 'v-constructor' });
    expect(attributes.meta).toEqual({ M: { constructor: { M: { ['__proto__']: { N: '1' } } }, n: { L: [{ BOOL: true }, { NULL: true }] } } });
    expect(Object.getOwnPropertyDescriptor(attributes, '__proto__')?.value).toEqual({ S: 'v-__proto__' });
    const back = fromAttributes(attributes);
    expect(back).toEqual(item);
    expect(names.map((n) => Object.hasOwn(back, n) && back[n])).toEqual(names.map((n) => `v-${n}`));
  });
});
