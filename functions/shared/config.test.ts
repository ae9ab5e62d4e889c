import { loadConfig } from './config';
import { thumbnailConfigSchema } from '../thumbnail/config';
import { csvImportConfigSchema } from '../csv-import/config';

const thumbnailEnv = { PROCESSING_LOG_TABLE: 'processing-log', THUMBNAIL_BUCKET: 'thumbnails', THUMBNAIL_WIDTHS: '512, 128,512' };

describe('loadConfig', () => {
  it('parses and normalises valid variables, with defaults', () => {
    expect(loadConfig(thumbnailConfigSchema, thumbnailEnv)).toEqual({
      PROCESSING_LOG_TABLE: 'processing-log',
      THUMBNAIL_BUCKET: 'thumbnails',
      THUMBNAIL_WIDTHS: [128, 512],
      THUMBNAIL_FORMAT: 'webp',
      MAX_INPUT_PIXELS: 50_000_000,
      MAX_INPUT_BYTES: 104_857_600,
    });
  });

  it('names a missing variable', () => {
    expect(() => loadConfig(thumbnailConfigSchema, { ...thumbnailEnv, THUMBNAIL_BUCKET: undefined })).toThrow(
      /^Invalid configuration: THUMBNAIL_BUCKET is required/,
    );
  });

  it('names a bad variable with its value and what is expected', () => {
    expect(() => loadConfig(thumbnailConfigSchema, { ...thumbnailEnv, THUMBNAIL_WIDTHS: 'abc' })).toThrow(
      'Invalid configuration: THUMBNAIL_WIDTHS="abc" is invalid: must be a comma-separated list of widths between 1 and 16384, e.g. 128,512,1024',
    );
    expect(() => loadConfig(thumbnailConfigSchema, { ...thumbnailEnv, THUMBNAIL_FORMAT: 'gif' })).toThrow(/THUMBNAIL_FORMAT="gif" is invalid/);
    expect(() => loadConfig(thumbnailConfigSchema, { ...thumbnailEnv, MAX_INPUT_PIXELS: '-5' })).toThrow(/MAX_INPUT_PIXELS="-5" is invalid/);
  });

  it('explains a bad data set, and a data set without its table', () => {
    const dataset = { name: 'people', key: { partition: 'id' }, columns: { id: 'string' }, table: 'rows', tableKeys: { partitionKey: 'id' } };
    const env = { PROCESSING_LOG_TABLE: 't', IMPORT_DATASETS: JSON.stringify([dataset]), REPORT_BUCKET: 'uploads' };
    expect(loadConfig(csvImportConfigSchema, env).IMPORT_DATASETS[0]).toMatchObject({ name: 'people', table: 'rows', tableKeys: { partitionKey: 'id' }, prefix: 'imports/people/' });
    const bad = JSON.stringify([{ ...dataset, columns: { id: 'text' } }]);
    expect(() => loadConfig(csvImportConfigSchema, { ...env, IMPORT_DATASETS: bad })).toThrow(/IMPORT_DATASETS=.* is invalid: data set "people": columns.id: "text" is not a type/);
    const { table: _table, ...withoutTable } = dataset;
    expect(() => loadConfig(csvImportConfigSchema, { ...env, IMPORT_DATASETS: JSON.stringify([withoutTable]) })).toThrow(/IMPORT_DATASETS=.* is invalid: data set "people": table undefined/);
  });
});
