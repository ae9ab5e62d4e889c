// Reading the processing log by time, through its by-day index (partition `day`, the UTC date of
// createdAt; sort `createdAt`): never a Scan, so a request or a report costs the days it reads,
// not the size of the table. The report reads a period; the api pages through recent items.
import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { MemoryProcessingLog, ProcessingLogItem } from './processing-log';

/** The index that lists the log by time (infra/pipelines-stack.ts declares it on the table). */
export const BY_DAY_INDEX = 'by-day';

const DAY_MS = 86_400_000;
const dayOf = (epochDay: number) => new Date(epochDay * DAY_MS).toISOString().slice(0, 10);

/** The UTC days the interval [from, to) touches, newest first: the partitions of the by-day index to read. */
export function daysBetween(from: Date, to: Date): string[] {
  const first = Math.floor(from.getTime() / DAY_MS);
  const last = Math.floor((to.getTime() - 1) / DAY_MS);
  const days: string[] = [];
  for (let d = last; d >= first; d--) days.push(dayOf(d));
  return days;
}

/** Where a day's query stopped: the index key of the last item it evaluated. */
export interface DayPosition {
  pk: string;
  sk: string;
  createdAt: string;
}

export interface ItemFilter {
  /** Keys starting with this. */
  prefix?: string;
  status?: ProcessingLogItem['status'];
}

/**
 * One query of a day's partition, newest first: up to `limit` items evaluated after `start`, of
 * which those matching the filter are returned (DynamoDB's Limit counts before the filter), and
 * where to go on when the day has more.
 */
export type QueryDay = (day: string, start: DayPosition | undefined, limit: number, filter: ItemFilter) => Promise<{ items: ProcessingLogItem[]; next?: DayPosition }>;

export interface PageRequest extends ItemFilter {
  limit: number;
  /** From the previous page; absent for the first. */
  cursor?: string;
  /** How many days back from `now` a listing looks. */
  horizonDays: number;
  now: Date;
}

export interface Page {
  items: ProcessingLogItem[];
  /** Present when there may be more: pass it back for the next page. */
  cursor?: string;
}

export class InvalidCursor extends Error {
  override name = 'InvalidCursor';
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The cursor a page hands out: the day and the position in it, base64url JSON (opaque to clients). */
export function encodeCursor(day: string, position: DayPosition | undefined): string {
  return Buffer.from(JSON.stringify(position ? { d: day, p: [position.pk, position.sk, position.createdAt] } : { d: day })).toString('base64url');
}

export function decodeCursor(cursor: string): { day: string; position?: DayPosition } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor('cursor is not one this API handed out');
  }
  const { d, p } = (parsed ?? {}) as { d?: unknown; p?: unknown };
  const position = Array.isArray(p) && p.length === 3 && p.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 2100) ? { pk: p[0], sk: p[1], createdAt: p[2] } : undefined;
  if (typeof d !== 'string' || !DAY.test(d) || (p !== undefined && !position)) throw new InvalidCursor('cursor is not one this API handed out');
  return { day: d, ...(position && { position }) };
}

/** Queries at most per page: an empty stretch of days must not make one request slow. */
const MAX_QUERIES_PER_PAGE = 40;

/**
 * Days queried at once when a page starts a day afresh: quiet days cost one round trip per
 * LOOKAHEAD_DAYS, not one each (a fresh stack's recent list walks its whole horizon).
 */
const LOOKAHEAD_DAYS = 8;

type DayAnswer = Awaited<ReturnType<QueryDay>>;

/**
 * A page of the newest items (filtered), walking back day by day from today, or from the cursor,
 * down to `horizonDays` ago. The cursor resumes exactly after the last item handed out. Days are
 * queried LOOKAHEAD_DAYS at a time but consumed in order, so the page is what one-by-one would give.
 */
export async function pageByDay(queryDay: QueryDay, request: PageRequest): Promise<Page> {
  const today = Math.floor(request.now.getTime() / DAY_MS);
  const oldest = today - request.horizonDays + 1;
  const start = request.cursor ? decodeCursor(request.cursor) : { day: dayOf(today) };
  let day = Math.floor(Date.parse(`${start.day}T00:00:00Z`) / DAY_MS);
  let position = 'position' in start ? start.position : undefined;
  const items: ProcessingLogItem[] = [];
  const filter = { ...(request.prefix && { prefix: request.prefix }), ...(request.status && { status: request.status }) };
  const ahead = new Map<number, Promise<DayAnswer>>();
  let queries = 0;
  const query = (d: number, from: DayPosition | undefined): Promise<DayAnswer> => {
    queries++;
    const answer = queryDay(dayOf(d), from, request.limit - items.length, filter);
    answer.catch(() => undefined); // a read-ahead nobody awaits must not become an unhandled rejection
    return answer;
  };
  while (items.length < request.limit && day >= oldest && (ahead.has(day) || queries < MAX_QUERIES_PER_PAGE)) {
    let out: DayAnswer;
    if (position) out = await query(day, position);
    else {
      for (let d = day; d > day - LOOKAHEAD_DAYS && d >= oldest && queries < MAX_QUERIES_PER_PAGE; d--) if (!ahead.has(d)) ahead.set(d, query(d, undefined));
      out = await ahead.get(day)!;
      ahead.delete(day);
    }
    // A day read ahead may hold more than is still wanted: hand out what is, resume after it.
    const wanted = request.limit - items.length;
    items.push(...out.items.slice(0, wanted));
    const last = out.items[wanted - 1];
    if (out.items.length > wanted && last) position = { pk: last.pk, sk: last.sk, createdAt: last.createdAt };
    else if (out.next) position = out.next;
    else {
      day--;
      position = undefined;
    }
  }
  return { items, ...(day >= oldest && { cursor: encodeCursor(dayOf(day), position) }) };
}

/** Reads the log by time (never a Scan): what the report and the api need. */
export interface ProcessingLogReader {
  /** Items with from <= createdAt < to, newest first. */
  between(from: Date, to: Date): AsyncIterable<ProcessingLogItem>;
  /** A page of the newest items, filtered. */
  page(request: PageRequest): Promise<Page>;
  /** The items of one object (every function's), by key. */
  ofObject(bucket: string, key: string): Promise<ProcessingLogItem[]>;
}

/** The reader over DynamoDB: Query on the by-day index, one day partition after the other. */
export class DynamoProcessingLogReader implements ProcessingLogReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly index = BY_DAY_INDEX,
  ) {}

  async *between(from: Date, to: Date): AsyncIterable<ProcessingLogItem> {
    for (const day of daysBetween(from, to)) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: this.index,
            KeyConditionExpression: '#day = :day AND createdAt BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#day': 'day' },
            ExpressionAttributeValues: marshall({ ':day': day, ':from': from.toISOString(), ':to': new Date(to.getTime() - 1).toISOString() }),
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) yield unmarshall(item) as ProcessingLogItem;
        start = out.LastEvaluatedKey;
      } while (start);
    }
  }

  page(request: PageRequest): Promise<Page> {
    return pageByDay(async (day, start, limit, filter) => {
      const conditions = [...(filter.prefix ? ['begins_with(#key, :prefix)'] : []), ...(filter.status ? ['#status = :status'] : [])];
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: this.index,
          KeyConditionExpression: '#day = :day',
          ...(conditions.length > 0 && { FilterExpression: conditions.join(' AND ') }),
          ExpressionAttributeNames: { '#day': 'day', ...(filter.prefix && { '#key': 'key' }), ...(filter.status && { '#status': 'status' }) },
          ExpressionAttributeValues: marshall({ ':day': day, ...(filter.prefix && { ':prefix': filter.prefix }), ...(filter.status && { ':status': filter.status }) }),
          ScanIndexForward: false,
          Limit: limit,
          ...(start && { ExclusiveStartKey: marshall({ day, createdAt: start.createdAt, pk: start.pk, sk: start.sk }) }),
        }),
      );
      const last = out.LastEvaluatedKey && (unmarshall(out.LastEvaluatedKey) as DayPosition);
      return { items: (out.Items ?? []).map((i) => unmarshall(i) as ProcessingLogItem), ...(last && { next: { pk: last.pk, sk: last.sk, createdAt: last.createdAt } }) };
    }, request);
  }

  async ofObject(bucket: string, key: string): Promise<ProcessingLogItem[]> {
    const out = await this.client.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: marshall({ ':pk': `${bucket}/${key}` }), ConsistentRead: true }),
    );
    return (out.Items ?? []).map((i) => unmarshall(i) as ProcessingLogItem);
  }
}

/** Newest first, as the index sorts: createdAt, then the table key. */
const newestFirst = (a: ProcessingLogItem, b: ProcessingLogItem) => b.createdAt.localeCompare(a.createdAt) || b.pk.localeCompare(a.pk) || b.sk.localeCompare(a.sk);

/** The reader over a MemoryProcessingLog, with DynamoDB's paging semantics, for unit tests. */
export class MemoryProcessingLogReader implements ProcessingLogReader {
  /** The queries made, for tests that count them. */
  readonly queries: string[] = [];

  constructor(private readonly log: MemoryProcessingLog) {}

  async *between(from: Date, to: Date): AsyncIterable<ProcessingLogItem> {
    yield* [...this.log.items.values()].filter((i) => i.createdAt >= from.toISOString() && i.createdAt < to.toISOString()).sort(newestFirst);
  }

  page(request: PageRequest): Promise<Page> {
    return pageByDay(async (day, start, limit, filter) => {
      this.queries.push(day);
      const all = [...this.log.items.values()].filter((i) => i.day === day).sort(newestFirst);
      const from = start ? all.findIndex((i) => newestFirst(i, { ...i, ...start }) > 0) : 0;
      const evaluated = from < 0 ? [] : all.slice(from, from + limit);
      const last = evaluated.at(-1);
      const more = from >= 0 && from + limit < all.length;
      const matches = (i: ProcessingLogItem) => (!filter.prefix || i.key.startsWith(filter.prefix)) && (!filter.status || i.status === filter.status);
      return { items: evaluated.filter(matches), ...(more && last && { next: { pk: last.pk, sk: last.sk, createdAt: last.createdAt } }) };
    }, request);
  }

  async ofObject(bucket: string, key: string): Promise<ProcessingLogItem[]> {
    return [...this.log.items.values()].filter((i) => i.pk === `${bucket}/${key}`);
  }
}
