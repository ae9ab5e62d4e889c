import type { StreamMappingPlan } from '../template/plan';
import { MemoryCheckpointStore } from './checkpoints';
import type { FailureRecord, StreamFailureRecord } from './failure-records';
import { iteratorStart, StreamPoller, toLambdaRecord } from './stream-poller';
import { testRuntime, fakeClient, silent, until, type Answer } from './test-support';

const STREAM = 'arn:aws:dynamodb:us-east-1:000000000000:table/processing-log/stream/2026';
const mapping: StreamMappingPlan = {
  kind: 'dynamodb-stream',
  uuid: 'u-2',
  logicalId: 'AuditMapping',
  function: 'audit',
  streamArn: STREAM,
  enabled: true,
  startingPosition: 'TRIM_HORIZON',
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  maximumRetryAttempts: 2,
  maximumRecordAgeInSeconds: -1,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  onFailure: 'arn:aws:sqs:us-east-1:000000000000:audit-dlq',
};

interface FakeShard {
  id: string;
  parent?: string;
  records: string[];
  closed?: boolean;
}

/** DynamoDB Streams in memory: iterators are `<shard>:<index of the next record>`. */
function stream(shards: FakeShard[]) {
  const record = (seq: string) => ({ eventID: `e${seq}`, eventName: 'INSERT', dynamodb: { SequenceNumber: seq, ApproximateCreationDateTime: new Date(Number(seq) * 1000), Keys: { pk: { S: seq } } } });
  const streams = fakeClient({
    DescribeStreamCommand: () => ({ StreamDescription: { Shards: shards.map((s) => ({ ShardId: s.id, ParentShardId: s.parent })) } }),
    GetShardIteratorCommand: (input: { ShardId: string; ShardIteratorType: string; SequenceNumber?: string }) => {
      const shard = shards.find((s) => s.id === input.ShardId)!;
      const at = input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' ? shard.records.indexOf(input.SequenceNumber!) + 1 : 0;
      return { ShardIterator: `${shard.id}:${at}` };
    },
    GetRecordsCommand: (input: { ShardIterator: string; Limit: number }) => {
      const [id, at] = input.ShardIterator.split(':');
      const shard = shards.find((s) => s.id === id)!;
      const from = Number(at);
      const page = shard.records.slice(from, from + input.Limit);
      const next = from + page.length;
      return { Records: page.map(record), NextShardIterator: shard.closed && next >= shard.records.length ? undefined : `${id}:${next}` };
    },
  });
  return { streams: streams.client, calls: streams.calls };
}

function setup(shards: FakeShard[], answer: (event: any) => Answer, overrides: Partial<StreamMappingPlan> = {}, checkpoints = new MemoryCheckpointStore()) {
  const { runtime, events } = testRuntime(answer, { name: 'audit' });
  const seen = { events };
  const sent: Array<{ queue: string; record: FailureRecord }> = [];
  let sendFailures = 0;
  const metrics: Array<[string, number]> = [];
  const poller = new StreamPoller({
    ...stream(shards),
    mapping: { ...mapping, ...overrides },
    runtime,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:audit',
    checkpoints,
    sendRecord: async (queue, record) => {
      if (sendFailures-- > 0) throw new Error('SQS is restarting');
      sent.push({ queue, record });
    },
    logger: silent,
    sleep: async () => undefined,
    now: () => 10_000,
    metric: (name, value) => void metrics.push([name, value]),
  });
  const seqs = () => seen.events.map((e) => e.Records.map((r: any) => r.dynamodb.SequenceNumber));
  return { poller, seen, seqs, sent, checkpoints, metrics, failSends: (n: number) => (sendFailures = n) };
}

/** Polls until the poller is idle and nothing is in flight. */
async function runToIdle(poller: StreamPoller): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const outcome = await poller.poll();
    await poller.drain();
    if (outcome === 'idle') return;
  }
  throw new Error('the poller never went idle');
}

const succeed = (): Answer => ({ ok: { batchItemFailures: [] } });

describe('DynamoDB Streams event source mapping', () => {
  it('hands each shard on in order, in batches of BatchSize, and stores the checkpoint', async () => {
    const { poller, seqs, checkpoints, metrics } = setup([{ id: 's1', records: ['1', '2', '3', '4', '5'] }], succeed, { batchSize: 2 });

    await runToIdle(poller);

    expect(seqs()).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(checkpoints.items.get(`audit|${STREAM}|s1`)).toEqual({ sequenceNumber: '5' });
    // IteratorAge: the newest record of each batch (created at <seq> s), as the batch is sent at 10 s.
    expect(metrics).toEqual([['IteratorAge', 8_000], ['IteratorAge', 6_000], ['IteratorAge', 5_000]]);
  });

  it('resumes after the stored checkpoint when the service restarts: nothing is handed on twice', async () => {
    const shards = [{ id: 's1', records: ['1', '2', '3'] }];
    const first = setup(shards, succeed);
    await runToIdle(first.poller);
    shards[0]!.records.push('4', '5');

    const restarted = setup(shards, succeed, {}, first.checkpoints);
    await runToIdle(restarted.poller);

    expect(first.seqs()).toEqual([['1', '2', '3']]);
    expect(restarted.seqs()).toEqual([['4', '5']]);
  });

  it('bisects a failing batch until the poison record is alone, retries it MaximumRetryAttempts times, then sends DDBStreamBatchInfo', async () => {
    const poison = (e: any) => e.Records.some((r: any) => r.dynamodb.SequenceNumber === '3');
    const { poller, seqs, sent, checkpoints } = setup([{ id: 's1', records: ['1', '2', '3', '4'] }], (e) => (poison(e) ? { error: { errorType: 'Error', errorMessage: 'poison' } } : succeed()));

    await runToIdle(poller);

    // [1,2,3,4] fails -> [1,2] ok, [3,4] fails -> [3] fails 1 + 2 retries, [4] ok.
    expect(seqs()).toEqual([['1', '2', '3', '4'], ['1', '2'], ['3', '4'], ['3'], ['3'], ['3'], ['4']]);
    expect(sent).toHaveLength(1);
    const record = sent[0]!.record as StreamFailureRecord;
    expect(sent[0]!.queue).toBe('arn:aws:sqs:us-east-1:000000000000:audit-dlq');
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:audit' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      DDBStreamBatchInfo: { shardId: 's1', startSequenceNumber: '3', endSequenceNumber: '3', batchSize: 1, streamArn: STREAM, approximateArrivalOfFirstRecord: '1970-01-01T00:00:03Z' },
    });
    expect(record).not.toHaveProperty('Records');
    expect(checkpoints.items.get(`audit|${STREAM}|s1`)).toEqual({ sequenceNumber: '4' });
  });

  it('retries from the lowest failed sequence number with ReportBatchItemFailures', async () => {
    let calls = 0;
    const { poller, seqs } = setup([{ id: 's1', records: ['1', '2', '3', '4'] }], () => (++calls === 1 ? { ok: { batchItemFailures: [{ itemIdentifier: '3' }] } } : succeed()));
    await runToIdle(poller);
    expect(seqs()).toEqual([['1', '2', '3', '4'], ['3', '4']]);
  });

  it('keeps a failure record it could not send, retrying until stored: nothing is dropped', async () => {
    const { poller, sent, failSends, metrics } = setup([{ id: 's1', records: ['1'] }], () => ({ error: { errorType: 'Error', errorMessage: 'x' } }), { maximumRetryAttempts: 0 });
    failSends(3);
    await runToIdle(poller);
    expect(sent).toHaveLength(1);
    // Each failed delivery counts (AWS/Lambda DestinationDeliveryFailures).
    expect(metrics.filter(([name]) => name === 'DestinationDeliveryFailures')).toEqual([['DestinationDeliveryFailures', 1], ['DestinationDeliveryFailures', 1], ['DestinationDeliveryFailures', 1]]);
  });

  it('reads a child shard only after its parent was read to its end', async () => {
    const shards: FakeShard[] = [
      { id: 'child', parent: 'parent', records: ['5', '6'] },
      { id: 'parent', records: ['1', '2'], closed: true },
    ];
    const order: string[] = [];
    const { poller, checkpoints } = setup(shards, (e) => (order.push(...e.Records.map((r: any) => r.dynamodb.SequenceNumber)), succeed()));

    await runToIdle(poller);
    await until(() => order.length === 4, 'both shards read');

    expect(order).toEqual(['1', '2', '5', '6']);
    expect(checkpoints.items.get(`audit|${STREAM}|parent`)).toEqual({ sequenceNumber: '2', done: true });
  });

  it('takes its first iterator at the starting position, later ones after the checkpoint', () => {
    expect(iteratorStart(undefined, 'TRIM_HORIZON')).toEqual({ ShardIteratorType: 'TRIM_HORIZON' });
    expect(iteratorStart(undefined, 'LATEST')).toEqual({ ShardIteratorType: 'LATEST' });
    expect(iteratorStart('000123', 'LATEST')).toEqual({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '000123' });
    // The checkpoint itself trimmed away (a second stale answer in a row): the oldest record.
    expect(iteratorStart('000123', 'LATEST', true)).toEqual({ ShardIteratorType: 'TRIM_HORIZON' });
  });

  it('shapes a GetRecords record as Lambda delivers it', () => {
    const record = toLambdaRecord(
      { eventID: 'e1', eventName: 'INSERT', dynamodb: { ApproximateCreationDateTime: new Date('2026-11-20T10:00:00Z'), SequenceNumber: '100', Keys: { pk: { S: 'a' } } } },
      STREAM,
    );
    expect(record).toEqual({
      eventID: 'e1',
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: STREAM,
      dynamodb: { ApproximateCreationDateTime: 1795168800, SequenceNumber: '100', Keys: { pk: { S: 'a' } } },
    });
  });
});
