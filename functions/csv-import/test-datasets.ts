// Data sets for the unit tests, resolved as the handler resolves them at cold start.
import { parseDatasets, type ResolvedDataset } from './datasets';

export const [people, releases] = parseDatasets([
  {
    name: 'people',
    key: { partition: 'id' },
    columns: { id: 'string', name: 'string', email: 'string', age: 'number', active: 'boolean' },
    aliases: { 'E-mail': 'email' },
  },
  {
    name: 'releases',
    key: { partition: ['distro', 'series'], sort: 'arch' },
    columns: { distro: 'string', series: 'string', arch: 'string', released: 'date', meta: 'json', build: 'number' },
    undeclared: 'reject',
    upsert: { mode: 'if-newer', versionColumn: 'build' },
  },
]).map((d, i): ResolvedDataset => ({
  ...d,
  table: i === 0 ? 'imported-rows' : 'releases',
  tableKeys: i === 0 ? { partitionKey: 'id' } : { partitionKey: 'pk', sortKey: 'sk' },
})) as [ResolvedDataset, ResolvedDataset];
