import { MetricPublisher, type MetricDatum } from './cloudwatch-metrics';

function fakeCloudWatch() {
  const put: { namespace: string; data: MetricDatum[] }[] = [];
  let down = false;
  return {
    put,
    setDown: (d: boolean) => (down = d),
    api: {
      async putMetricData(namespace: string, data: MetricDatum[]) {
        if (down) throw new Error('connect ECONNREFUSED');
        put.push({ namespace, data });
      },
    },
  };
}

const sample = (name: string, value: number, timestamp: number, fn = 'f') => ({ namespace: 'AWS/Lambda', name, unit: 'Count', dimensions: [['FunctionName', fn]] as [string, string][], values: [value], timestamp });

describe('metrics into CloudWatch', () => {
  it('sums the samples of a flush per metric and dimensions into statistic sets, stamped with the latest', async () => {
    const cw = fakeCloudWatch();
    const publisher = new MetricPublisher(cw.api);
    publisher.add(sample('Duration', 10, 60_000));
    publisher.add(sample('Duration', 30, 64_000));
    publisher.add(sample('Duration', 5, 62_000));
    publisher.add(sample('Duration', 7, 60_000, 'g'));
    await publisher.flush();
    expect(cw.put).toHaveLength(1);
    const data = cw.put[0]!.data.map((d) => [d.dimensions[0]![1], d.timestamp, d.stats]);
    expect(data).toEqual([
      ['f', 64_000, { sampleCount: 3, sum: 45, min: 5, max: 30 }],
      ['g', 60_000, { sampleCount: 1, sum: 7, min: 7, max: 7 }],
    ]);
    expect(publisher.stats).toEqual({ published: 2, held: 0, dropped: 0 });
  });

  it('keeps high-resolution metrics (StorageResolution 1) per second', async () => {
    const cw = fakeCloudWatch();
    const publisher = new MetricPublisher(cw.api);
    for (const t of [1_000, 1_500, 2_100]) publisher.add({ ...sample('Latency', 1, t), storageResolution: 1 });
    await publisher.flush();
    expect(cw.put[0]!.data.map((d) => [d.timestamp, d.stats.sampleCount, d.storageResolution])).toEqual([
      [1_000, 2, 1],
      [2_000, 1, 1],
    ]);
  });

  it('holds what it could not put and merges it with what comes meanwhile', async () => {
    const cw = fakeCloudWatch();
    const publisher = new MetricPublisher(cw.api);
    cw.setDown(true);
    publisher.add(sample('Invocations', 1, 0));
    await publisher.flush();
    publisher.add(sample('Invocations', 1, 1));
    cw.setDown(false);
    await publisher.flush();
    expect(cw.put.flatMap((p) => p.data.map((d) => d.stats.sum))).toEqual([2]);
  });

  it('puts at most 1,000 statistic sets a call', async () => {
    const cw = fakeCloudWatch();
    const publisher = new MetricPublisher(cw.api);
    for (let i = 0; i < 1_500; i++) publisher.add(sample('Invocations', 1, 0, `fn-${i}`));
    await publisher.flush();
    expect(cw.put.map((p) => p.data.length)).toEqual([1_000, 500]);
  });
});
