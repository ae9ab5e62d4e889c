// The HTTP API and the dashboard page, as one hono app: routes over pure cores, every answer JSON
// (errors too: `{error, message}` with a 4xx for what the client can fix). Unit tests drive it with
// app.request(); handler.ts serves it to Lambda (Function URL events, payload format 2.0).
//   GET  /                 the dashboard page (and /app.js, /app.css)
//   GET  /config           what the page needs: data sets, size limits, image types
//   POST /uploads          {kind, filename, contentType, size, dataset?} -> a presigned POST to S3
//   GET  /uploads          ?prefix=&limit=&cursor= -> the newest processing-log items, paged
//   GET  /uploads/{key}    an upload's state: items, thumbnails (presigned GETs), import counts
//   GET  /alerts           ?limit=&cursor= -> the newest FAILED items
import { Hono, type Context } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { z } from 'zod';
import type { Logger } from '#shared/logger';
import type { ObjectStore } from '#shared/object-store';
import type { ProcessingLogItem } from '#shared/processing-log';
import { InvalidCursor, type ProcessingLogReader } from '#shared/processing-log-reader';
import type { DashboardAssets } from './assets';
import { IMAGE_TYPES, planUpload, UploadRefused, uploadRequestSchema, type UploadLimits } from './upload-plan';
import type { UrlSigner } from './url-signer';

export interface ApiSettings extends UploadLimits {
  uploadsBucket: string;
  thumbnailsBucket: string;
  urlExpiresSeconds: number;
  horizonDays: number;
}

export interface ApiDeps {
  reader: ProcessingLogReader;
  store: Pick<ObjectStore, 'head'>;
  signer: UrlSigner;
  assets: DashboardAssets;
  logger: Logger;
  now?: () => Date;
}

type Bindings = { lambdaContext?: { awsRequestId?: string } };

const MAX_LIMIT = 100;
/** Where presigned S3 URLs point: S3 itself on AWS, the local checking endpoint (loopback, any port) here. */
const S3_ORIGINS = ['https:', 'http://127.0.0.1:*', 'http://localhost:*'];
const listQuery = z.object({
  prefix: z.string().max(1024, 'prefix is longer than 1024 characters').optional(),
  limit: z.coerce.number({ error: 'limit must be a number' }).int('limit must be a whole number').min(1, 'limit must be at least 1').max(MAX_LIMIT, `limit may be at most ${MAX_LIMIT}`).default(25),
  cursor: z.string().max(4096).optional(),
});

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 413 | 415 = 400,
  ) {
    super(message);
  }
}

/** The first problem of a zod result, as a sentence naming the field. */
function parsed<T>(result: z.ZodSafeParseResult<T>): T {
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw new BadRequest(field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message);
}

/** An item as the API shows it: what happened to which object, when, how long it took. */
export const itemView = (i: ProcessingLogItem) => ({
  key: i.key,
  bucket: i.bucket,
  function: i.function,
  status: i.status,
  ...(i.reason !== undefined && { reason: i.reason }),
  createdAt: i.createdAt,
  durationMs: i.durationMs,
});

/** An upload's state: the newest item of each function decides (a re-upload is processed again); FAILED over IN_PROGRESS over PROCESSED. */
function newestStatus(items: readonly ProcessingLogItem[]): 'FAILED' | 'IN_PROGRESS' | 'PROCESSED' {
  const newest = items.filter((i) => !items.some((j) => j.function === i.function && j.createdAt > i.createdAt));
  if (newest.some((i) => i.status === 'FAILED')) return 'FAILED';
  return newest.some((i) => i.status === 'IN_PROGRESS') ? 'IN_PROGRESS' : 'PROCESSED';
}

interface ThumbnailOutput {
  key: string;
  width: number;
  height: number;
  bytes: number;
}

export function createApp(settings: ApiSettings, deps: ApiDeps): Hono<{ Bindings: Bindings }> {
  const now = deps.now ?? (() => new Date());
  const app = new Hono<{ Bindings: Bindings }>();

  app.onError((error, c) => {
    if (error instanceof BadRequest || error instanceof UploadRefused) return c.json({ error: 'bad request', message: error.message }, error.status);
    if (error instanceof InvalidCursor) return c.json({ error: 'bad request', message: error.message }, 400);
    const requestId = c.env?.lambdaContext?.awsRequestId;
    deps.logger.error({ err: error, path: c.req.path, requestId }, 'request failed');
    return c.json({ error: 'internal', message: 'the request failed on our side; it is logged', ...(requestId && { requestId }) }, 500);
  });
  app.notFound((c) => c.json({ error: 'not found', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  // Every answer: no framing (clickjacking), no sniffing, scripts and styles only from the page's own
  // origin; images and uploads go to S3's presigned URLs (https on AWS, the local endpoint here).
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', ...S3_ORIGINS],
        connectSrc: ["'self'", ...S3_ORIGINS],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        formAction: ["'none'"],
      },
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
      strictTransportSecurity: false,
      crossOriginResourcePolicy: false,
    }),
  );

  const asset = (c: Context, name: keyof DashboardAssets, type: string) => c.body(deps.assets[name], 200, { 'content-type': type, 'cache-control': 'no-cache' });
  app.get('/', (c) => asset(c, 'html', 'text/html; charset=utf-8'));
  app.get('/app.js', (c) => asset(c, 'js', 'text/javascript; charset=utf-8'));
  app.get('/app.css', (c) => asset(c, 'css', 'text/css; charset=utf-8'));

  app.get('/config', (c) =>
    c.json({ datasets: settings.datasets, limits: { imageBytes: settings.maxImageBytes, csvBytes: settings.maxCsvBytes }, imageTypes: Object.keys(IMAGE_TYPES) }),
  );

  app.post('/uploads', async (c) => {
    // JSON only: a cross-site form cannot send it without a CORS preflight, which the URL refuses.
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) throw new BadRequest('send the upload request as application/json', 415);
    const body: unknown = await c.req.json().catch(() => {
      throw new BadRequest('the body is not JSON');
    });
    const plan = planUpload(parsed(uploadRequestSchema.safeParse(body)), settings, now());
    const post = await deps.signer.post(settings.uploadsBucket, plan.key, plan.contentType, plan.maxBytes, settings.urlExpiresSeconds);
    const expiresAt = new Date(now().getTime() + settings.urlExpiresSeconds * 1000).toISOString();
    return c.json({ key: plan.key, bucket: settings.uploadsBucket, contentType: plan.contentType, maxBytes: plan.maxBytes, url: post.url, fields: post.fields, expiresAt }, 201);
  });

  app.get('/uploads', async (c) => {
    const q = parsed(listQuery.safeParse(c.req.query()));
    const page = await deps.reader.page({ limit: q.limit, horizonDays: settings.horizonDays, now: now(), ...(q.prefix && { prefix: q.prefix }), ...(q.cursor && { cursor: q.cursor }) });
    return c.json({ items: page.items.map(itemView), ...(page.cursor && { cursor: page.cursor }) });
  });

  app.get('/alerts', async (c) => {
    const q = parsed(listQuery.omit({ prefix: true }).safeParse(c.req.query()));
    const page = await deps.reader.page({ limit: q.limit, horizonDays: settings.horizonDays, now: now(), status: 'FAILED', ...(q.cursor && { cursor: q.cursor }) });
    return c.json({ alerts: page.items.map(itemView), ...(page.cursor && { cursor: page.cursor }) });
  });

  app.get('/uploads/:key{.+}', async (c) => {
    const key = c.req.param('key');
    if (Buffer.byteLength(key) > 1024) throw new BadRequest('a key is at most 1024 bytes');
    const items = (await deps.reader.ofObject(settings.uploadsBucket, key)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (items.length === 0) {
      // Uploaded and waiting for its pipeline, or never uploaded at all.
      if (!(await deps.store.head(settings.uploadsBucket, key))) throw new BadRequest(`no upload s3://${settings.uploadsBucket}/${key}`, 404);
      return c.json({ key, bucket: settings.uploadsBucket, status: 'PENDING', items: [], thumbnails: [] });
    }
    const expires = settings.urlExpiresSeconds;
    const thumbnail = items.find((i) => i.function === 'thumbnail' && i.status === 'PROCESSED');
    const outputs = ((thumbnail?.details?.outputs as ThumbnailOutput[] | undefined) ?? []).filter((o) => typeof o?.key === 'string');
    const thumbnails = await Promise.all(
      outputs.map(async (o) => ({ width: o.width, height: o.height, bytes: o.bytes, url: await deps.signer.get(String(thumbnail!.details?.outputBucket ?? settings.thumbnailsBucket), o.key, expires) })),
    );
    // A large import shows its rows so far while it runs (IN_PROGRESS, checkpointed across invocations).
    const imported = items.find((i) => i.function === 'csv-import' && (i.status === 'PROCESSED' || i.status === 'IN_PROGRESS'));
    const d = imported?.details ?? {};
    const reportKey = typeof d.reportKey === 'string' ? d.reportKey : undefined;
    return c.json({
      key,
      bucket: settings.uploadsBucket,
      // The newest item of each function decides: a re-upload is processed again.
      status: newestStatus(items),
      items: items.map(itemView),
      thumbnails,
      ...(imported && {
        import: {
          dataset: d.dataset,
          table: d.table,
          rowsRead: d.rowsRead,
          rowsWritten: d.rowsWritten,
          rowsSkipped: d.rowsSkipped,
          rowsRejected: d.rowsRejected,
          ...(imported.status === 'IN_PROGRESS' && { inProgress: true, invocations: d.invocations }),
          ...(reportKey && { rejectedRows: { key: reportKey, url: await deps.signer.get(settings.uploadsBucket, reportKey, expires) } }),
        },
      }),
    });
  });

  return app;
}
