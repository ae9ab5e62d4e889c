import { readFileSync } from 'node:fs';
import { parseDatasets, type ResolvedDataset } from '../functions/csv-import/datasets';
import { defaultConfig } from '../infra/config';
import { csvKeyValues, demoKeys, expectedThumbnailWidths, formatAttributes, formatRow, uploadNotificationFor } from './demo-report';

// The stack's own data sets, as csv-import resolves them at cold start.
const datasets = parseDatasets(defaultConfig.csvImport.datasets.map(({ tableKey: _k, ...d }) => d)).map((d): ResolvedDataset => ({ ...d, table: `${d.name}-table`, tableKeys: { partitionKey: 'id' } }));

describe('demo report', () => {
  it('uploads the photo under images/ and each sample CSV under its data set\'s prefix, so each reaches its pipeline', () => {
    const keys = demoKeys('42', datasets);
    expect(keys.photo).toBe('images/demo-42.jpg');
    expect(keys.csvs.map((c) => [c.file, c.key])).toEqual([
      ['samples/people.csv', 'imports/people/demo-42.csv'],
      ['samples/debian-releases.csv', 'imports/debian-releases/demo-42.csv'],
    ]);
  });

  it('looks up every sample row that has an id (ten good, one with a bad age), in file order', () => {
    const ids = csvKeyValues(readFileSync('samples/people.csv', 'utf8'), 'id');

    expect(ids).toEqual(['u-001', 'u-002', 'u-003', 'u-004', 'u-005', 'u-006', 'u-007', 'u-008', 'u-009', 'u-010', 'u-011']);
  });

  it('prints an imported row with its columns in the data set\'s order, undeclared ones last', () => {
    const row = { active: true, age: 36, email: 'ada@example.com', id: 'u-001', name: 'Ada Lovelace', team: 'engines' };

    expect(formatRow(row, demoKeys('1', datasets).csvs[0]!.dataset)).toBe('{"id":"u-001","name":"Ada Lovelace","email":"ada@example.com","age":36,"active":true,"team":"engines"}');
  });

  it('expects the configured thumbnail widths, capped at the source width', () => {
    expect(expectedThumbnailWidths(1600, '128,512,1024')).toEqual([128, 512, 1024]);
    expect(expectedThumbnailWidths(600, '128,512,1024')).toEqual([128, 512, 600]);
  });

  it('picks the SNS envelope that announces the demo upload, and nothing else', () => {
    const envelope = { Type: 'Notification', Subject: 'New upload', Message: JSON.stringify({ key: 'images/demo-1.jpg' }) };
    const body = JSON.stringify(envelope);

    expect(uploadNotificationFor(body, 'images/demo-1.jpg')).toEqual(envelope);
    expect(uploadNotificationFor(body, 'images/demo-2.jpg')).toBeUndefined();
    expect(uploadNotificationFor('{"Records":[]}', 'images/demo-1.jpg')).toBeUndefined();
    expect(uploadNotificationFor('not json', 'images/demo-1.jpg')).toBeUndefined();
  });

  it('prints message attributes as sorted name=value pairs', () => {
    const line = formatAttributes({ keyPrefix: { Type: 'String', Value: 'images/' }, bucket: { Type: 'String', Value: 'uploads' } });

    expect(line).toBe('bucket=uploads keyPrefix=images/');
  });
});
