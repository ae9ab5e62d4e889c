import { emfMetrics } from './emf';

const line = (root: Record<string, unknown>) => JSON.stringify(root);

describe('Embedded Metric Format', () => {
  it('reads the metrics of a line as Powertools writes it', () => {
    const samples = emfMetrics(
      line({
        _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [{ Namespace: 'LambdaPipelines', Dimensions: [['service']], Metrics: [{ Name: 'RowsImported', Unit: 'Count' }, { Name: 'Latency', Unit: 'Milliseconds', StorageResolution: 1 }] }] },
        service: 'csv-import',
        RowsImported: 120,
        Latency: [3, 4],
        requestId: 'r',
      }),
    );
    expect(samples).toEqual([
      { namespace: 'LambdaPipelines', name: 'RowsImported', unit: 'Count', dimensions: [['service', 'csv-import']], values: [120], timestamp: 1_700_000_000_000 },
      { namespace: 'LambdaPipelines', name: 'Latency', unit: 'Milliseconds', dimensions: [['service', 'csv-import']], values: [3, 4], timestamp: 1_700_000_000_000, storageResolution: 1 },
    ]);
  });

  it('gives each dimension set its own metric, and none declared means no dimensions', () => {
    const root = { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['a'], ['a', 'b']], Metrics: [{ Name: 'm' }] }] }, a: 'x', b: 'y', m: 1 };
    expect(emfMetrics(line(root)).map((s) => s.dimensions)).toEqual([[['a', 'x']], [['a', 'x'], ['b', 'y']]]);
    expect(emfMetrics(line({ ...root, _aws: { ...root._aws, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [], Metrics: [{ Name: 'm' }] }] } }))[0]!.dimensions).toEqual([]);
  });

  it.each([
    ['a plain line', 'START RequestId: x'],
    ['JSON without _aws', line({ level: 'info', msg: 'hi' })],
    ['no Timestamp', line({ _aws: { CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [], Metrics: [{ Name: 'm' }] }] }, m: 1 })],
    ['a value that is not a number', line({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [], Metrics: [{ Name: 'm' }] }] }, m: '1' })],
    ['a missing value', line({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [], Metrics: [{ Name: 'm' }] }] } })],
    ['a dimension that is not a string', line({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['d']], Metrics: [{ Name: 'm' }] }] }, d: 3, m: 1 })],
    ['more than 30 dimensions', line({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [Array.from({ length: 31 }, (_, i) => `d${i}`)], Metrics: [{ Name: 'm' }] }] }, m: 1, ...Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`d${i}`, 'v'])) })],
    ['more than 100 metrics', line({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [], Metrics: Array.from({ length: 101 }, (_, i) => ({ Name: `m${i}` })) }] }, ...Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`m${i}`, 1])) })],
    ['broken JSON', '{"_aws": {'],
  ])('yields nothing for %s', (_what, text) => {
    expect(emfMetrics(text)).toEqual([]);
  });
});
