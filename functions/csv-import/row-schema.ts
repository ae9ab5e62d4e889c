// The declared row schema (IMPORT_SCHEMA) and row validation: pure functions.
export const COLUMN_TYPES = ['string', 'number', 'boolean'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];
export type RowSchema = Record<string, ColumnType>;
export type Item = Record<string, string | number | boolean>;

/** `id:string,age:number,active:boolean` -> { id: 'string', age: 'number', active: 'boolean' } */
export function parseRowSchema(text: string): RowSchema {
  const schema: RowSchema = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, type, ...rest] = part.split(':').map((s) => s.trim());
    if (!name || rest.length > 0 || !COLUMN_TYPES.includes(type as ColumnType)) {
      throw new Error(`"${part}" is not <column>:<${COLUMN_TYPES.join('|')}>`);
    }
    if (name in schema) throw new Error(`column "${name}" is declared twice`);
    schema[name] = type as ColumnType;
  }
  if (Object.keys(schema).length === 0) throw new Error('declares no column');
  return schema;
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };

export type RowResult = { ok: true; item: Item } | { ok: false; reason: string };

/**
 * Validates one parsed row. The key column must be present and non-empty; typed columns must
 * parse; empty optional cells are left out of the item; undeclared columns are kept as strings.
 */
export function validateRow(record: Record<string, string | undefined>, schema: RowSchema, keyColumn: string): RowResult {
  const key = record[keyColumn]?.trim();
  if (!key) return { ok: false, reason: `missing value for key column "${keyColumn}"` };
  const item: Item = {};
  const problems: string[] = [];
  for (const [column, raw] of Object.entries(record)) {
    const value = raw?.trim();
    if (value === undefined || value === '') continue;
    switch (schema[column] ?? 'string') {
      case 'string':
        item[column] = value;
        break;
      case 'number': {
        const n = Number(value);
        if (Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) item[column] = n;
        else problems.push(`"${column}" is not a number: ${JSON.stringify(value)}`);
        break;
      }
      case 'boolean': {
        const b = BOOLEANS[value.toLowerCase()];
        if (b === undefined) problems.push(`"${column}" is not a boolean (true/false/yes/no/1/0): ${JSON.stringify(value)}`);
        else item[column] = b;
        break;
      }
    }
  }
  return problems.length > 0 ? { ok: false, reason: problems.join('; ') } : { ok: true, item };
}
