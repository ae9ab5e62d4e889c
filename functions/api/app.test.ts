import { silentLogger } from '#shared/logger';
import { MemoryObjectStore } from '#shared/memory-object-store';
import { MemoryProcessingLog, newLogItem } from '#shared/processing-log';
import { MemoryProcessingLogReader } from '#shared/processing-log-reader';
import { createApp, type ApiSettings } from './app';
import { FakeUrlSigner } from './url-signer';

const settings: ApiSettings = {
  uploadsBucket: 'uploads',
  thumbnailsBucket: 'thumbnails',
  datasets: ['people', 'debian-releases'],
  maxImageBytes: 10 * 1024 * 1024,
  maxCsvBytes: 50 * 1024 * 1024,
  urlExpiresSeconds: 900,
  horizonDays: 30,
};
const now = new Date('2026-11-24T12:00:00Z');
const ref = (key: string) => ({ bucket: 'uploads', key, size: 1, eTag: key, versionId: undefined, sequencer: undefined, eventName: 'ObjectCreated:Put', eventTime: '' });

function setup(options: { longImport?: boolean } = {}) {
  const log = new MemoryProcessingLog();
  const add = (fn: string, key: string, at: string, status: 'PROCESSED' | 'FAILED' | 'IN_PROGRESS', extra: { reason?: string; details?: Record<string, unknown> } = {}) => {
    const item = newLogItem({ fn, ref: ref(key), status, durationMs: 42, now: new Date(at), ...extra });
    log.items.set(`${item.pk}|${item.sk}`, item);
  };
  add('thumbnail', 'images/cat.jpg', '2026-11-24T11:00:00.000Z', 'PROCESSED', {
    details: { outputBucket: 'thumbnails', outputs: [{ key: 'images/cat.jpg/128.webp', width: 128, height: 96, bytes: 900 }] },
  });
  add('thumbnail', 'images/broken.jpg', '2026-11-24T10:00:00.000Z', 'FAILED', { reason: 'not an image' });
  add('csv-import', 'imports/people/p.csv', '2026-11-23T09:00:00.000Z', 'PROCESSED', {
    details: { dataset: 'people', table: 'imported-rows', rowsRead: 4, rowsWritten: 3, rowsSkipped: 0, rowsRejected: 1, reportKey: 'reports/imports/people/p.csv.errors.csv' },
  });
  if (options.longImport) {
    add('csv-import', 'imports/people/big.csv', '2026-11-24T11:30:00.000Z', 'IN_PROGRESS', {
      details: { dataset: 'people', table: 'imported-rows', rowsRead: 12_000, rowsWritten: 11_988, rowsSkipped: 0, rowsRejected: 12, invocations: 2, checkpoint: { offset: 1 } },
    });
  }
  const store = new MemoryObjectStore();
  store.seed('uploads', 'images/waiting.jpg', 'x');
  const app = createApp(settings, {
    reader: new MemoryProcessingLogReader(log),
    store,
    signer: new FakeUrlSigner(),
    assets: { html: '<!doctype html><title>dash</title>', js: 'console.log(1)', css: 'body{}' },
    logger: silentLogger,
    now: () => now,
  });
  const json = async (path: string, init?: RequestInit) => {
    const res = await app.request(path, init);
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  };
  const post = (body: unknown, contentType = 'application/json') => json('/uploads', { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { app, json, post };
}

describe('the api', () => {
  it('serves the dashboard page and its files', async () => {
    const { app } = setup();
    const page = await app.request('/');
    expect([page.status, page.headers.get('content-type'), await page.text()]).toEqual([200, 'text/html; charset=utf-8', '<!doctype html><title>dash</title>']);
    expect((await app.request('/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('may not be framed nor sniffed: every answer (HEAD and errors too) carries the CSP and nosniff', async () => {
    const { app } = setup();
    for (const [path, method] of [['/', 'GET'], ['/', 'HEAD'], ['/uploads', 'GET'], ['/nowhere', 'GET']] as const) {
      const res = await app.request(path, { method });
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    expect((await app.request('/', { method: 'HEAD' })).status).toBe(200);
    expect((await app.request('/')).headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  describe('POST /uploads', () => {
    it('hands out a presigned POST for an image under images/<day>/, the key made by the server', async () => {
      const { post } = setup();
      const { status, body } = await post({ kind: 'image', filename: '../../Été à Paris (1).JPG', contentType: 'image/jpeg', size: 123_456 });
      expect(status).toBe(201);
      expect(body).toMatchObject({ bucket: 'uploads', contentType: 'image/jpeg', maxBytes: settings.maxImageBytes, url: 'https://s3.test/uploads', expiresAt: '2026-11-24T12:15:00.000Z' });
      expect(body.key).toMatch(/^images\/2026-11-24\/[0-9a-f]{8}-Ete-a-Paris-1-\.JPG$/);
      expect(body.fields).toMatchObject({ key: body.key, 'Content-Type': 'image/jpeg' });
    });

    it('puts a CSV under imports/<data set>/ as text/csv, whatever type the browser guessed', async () => {
      const { post } = setup();
      const { status, body } = await post({ kind: 'csv', filename: 'team.csv', contentType: 'application/vnd.ms-excel', size: 10, dataset: 'people' });
      expect(status).toBe(201);
      expect(body.key).toMatch(/^imports\/people\/2026-11-24\/[0-9a-f]{8}-team\.csv$/);
      expect(body.contentType).toBe('text/csv');
    });

    it.each([
      [{ kind: 'image', filename: 'a.jpg', contentType: 'image/jpeg', size: 11 * 1024 * 1024 }, 413, 'a.jpg is 11 MiB; images may be up to 10 MiB'],
      [{ kind: 'image', filename: 'notes.txt', contentType: 'text/plain', size: 5 }, 415, 'text/plain is not an image the thumbnail pipeline reads'],
      [{ kind: 'csv', filename: 'data.xlsx', size: 5, dataset: 'people' }, 415, 'only .csv files are imported'],
      [{ kind: 'csv', filename: 'a.csv', size: 5 }, 400, 'dataset is required for a CSV; use one of people, debian-releases'],
      [{ kind: 'csv', filename: 'a.csv', size: 5, dataset: 'planets' }, 400, 'dataset "planets" is not one of people, debian-releases'],
      [{ kind: 'video', filename: 'a.mp4', size: 5 }, 400, 'kind must be "image" or "csv"'],
      [{ kind: 'image', filename: 'a.jpg', size: 0 }, 400, 'size must be at least 1 byte'],
      [{ kind: 'image', filename: 'a.jpg' }, 400, 'size (bytes) is required'],
    ])('refuses %j with %i', async (request, status, message) => {
      const { post } = setup();
      const out = await post(request);
      expect([out.status, out.body.error]).toEqual([status, 'bad request']);
      expect(out.body.message).toContain(message);
    });

    it('takes JSON only, and says so', async () => {
      const { post } = setup();
      expect(await post('kind=image', 'application/x-www-form-urlencoded')).toMatchObject({ status: 415, body: { message: 'send the upload request as application/json' } });
      expect(await post('{not json')).toMatchObject({ status: 400, body: { message: 'the body is not JSON' } });
    });
  });

  describe('GET /uploads', () => {
    it('lists the newest items first, across days, with a cursor to the next page', async () => {
      const { json } = setup();
      const first = await json('/uploads?limit=2');
      expect(first.status).toBe(200);
      expect(first.body.items.map((i: { key: string }) => i.key)).toEqual(['images/cat.jpg', 'images/broken.jpg']);
      expect(first.body.items[1]).toEqual({ key: 'images/broken.jpg', bucket: 'uploads', function: 'thumbnail', status: 'FAILED', reason: 'not an image', createdAt: '2026-11-24T10:00:00.000Z', durationMs: 42 });
      const second = await json(`/uploads?limit=2&cursor=${first.body.cursor}`);
      expect(second.body.items.map((i: { key: string }) => i.key)).toEqual(['imports/people/p.csv']);
    });

    it('filters by prefix, and refuses a bad limit or cursor with a sentence', async () => {
      const { json } = setup();
      expect((await json('/uploads?prefix=imports/')).body.items.map((i: { key: string }) => i.key)).toEqual(['imports/people/p.csv']);
      expect(await json('/uploads?limit=500')).toMatchObject({ status: 400, body: { message: 'limit may be at most 100' } });
      expect(await json('/uploads?limit=two')).toMatchObject({ status: 400, body: { message: 'limit must be a number' } });
      expect(await json('/uploads?cursor=garbage')).toMatchObject({ status: 400, body: { message: 'cursor is not one this API handed out' } });
    });
  });

  describe('GET /uploads/{key}', () => {
    it('shows a processed image with its thumbnails as presigned URLs', async () => {
      const { json } = setup();
      const { status, body } = await json(`/uploads/${encodeURIComponent('images/cat.jpg')}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ key: 'images/cat.jpg', status: 'PROCESSED', thumbnails: [{ width: 128, height: 96, bytes: 900, url: 'https://s3.test/thumbnails/images%2Fcat.jpg%2F128.webp?signed' }] });
    });

    it('shows an import with its counts and a link to its rejected rows; a key with slashes works unencoded too', async () => {
      const { json } = setup();
      const { body } = await json('/uploads/imports/people/p.csv');
      expect(body.import).toEqual({
        dataset: 'people',
        table: 'imported-rows',
        rowsRead: 4,
        rowsWritten: 3,
        rowsSkipped: 0,
        rowsRejected: 1,
        rejectedRows: { key: 'reports/imports/people/p.csv.errors.csv', url: 'https://s3.test/uploads/reports%2Fimports%2Fpeople%2Fp.csv.errors.csv?signed' },
      });
    });

    it('shows an import that carries on across invocations as IN_PROGRESS, with its rows so far', async () => {
      const { json } = setup({ longImport: true });
      const { body } = await json('/uploads/imports/people/big.csv');
      expect(body).toMatchObject({ status: 'IN_PROGRESS', items: [{ function: 'csv-import', status: 'IN_PROGRESS' }] });
      expect(body.import).toEqual({ dataset: 'people', table: 'imported-rows', rowsRead: 12_000, rowsWritten: 11_988, rowsSkipped: 0, rowsRejected: 12, inProgress: true, invocations: 2 });
    });

    it('says PENDING for an upload not processed yet, 404 for a key never uploaded', async () => {
      const { json } = setup();
      expect(await json('/uploads/images%2Fwaiting.jpg')).toMatchObject({ status: 200, body: { status: 'PENDING', items: [] } });
      expect(await json('/uploads/images%2Fnever.jpg')).toMatchObject({ status: 404, body: { error: 'bad request', message: 'no upload s3://uploads/images/never.jpg' } });
    });

    it('reports FAILED with the reason', async () => {
      const { json } = setup();
      expect((await json('/uploads/images%2Fbroken.jpg')).body).toMatchObject({ status: 'FAILED', items: [{ status: 'FAILED', reason: 'not an image' }], thumbnails: [] });
    });
  });

  it('lists alerts: the FAILED items only', async () => {
    const { json } = setup();
    const { body } = await json('/alerts');
    expect(body.alerts.map((a: { key: string }) => a.key)).toEqual(['images/broken.jpg']);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { json } = setup();
    expect(await json('/nope')).toMatchObject({ status: 404, body: { error: 'not found', message: 'no route GET /nope' } });
    expect(await json('/uploads', { method: 'DELETE' })).toMatchObject({ status: 404 });
  });
});
