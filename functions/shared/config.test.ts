import { loadConfig } from './config';
import { thumbnailConfigSchema } from '../thumbnail/config';
import { csvImportConfigSchema, resolveDatasets } from '../csv-import/config';

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

  it('explains a bad data set, and a data set without its table variable', () => {
    const good = JSON.stringify([{ name: 'people', key: { partition: 'id' }, columns: { id: 'string' }, tableKeys: { partitionKey: 'id' } }]);
    const env = { PROCESSING_LOG_TABLE: 't', IMPORT_DATASETS: good, REPORT_BUCKET: 'uploads' };
    const bad = JSON.stringify([{ name: 'people', key: { partition: 'id' }, columns: { id: 'text' }, tableKeys: { partitionKey: 'id' } }]);
    expect(() => loadConfig(csvImportConfigSchema, { ...env, IMPORT_DATASETS: bad })).toThrow(/IMPORT_DATASETS=.* is invalid: data set "people": columns.id: "text" is not a type/);
    expect(() => resolveDatasets(loadConfig(csvImportConfigSchema, env), env)).toThrow('Invalid configuration: IMPORT_TABLE__PEOPLE is required (the table of each data set in IMPORT_DATASETS)');
    expect(resolveDatasets(loadConfig(csvImportConfigSchema, env), { ...env, IMPORT_TABLE__PEOPLE: 'rows' })[0]).toMatchObject({ name: 'people', table: 'rows', prefix: 'imports/people/' });
  });
});
