import { batchesOf, fitEvent, GroupMissing, LogShipper, StreamMissing, type LogEvent, type LogsApi } from './cloudwatch-logs';

/** CloudWatch Logs as a map of groups and streams, with the API's errors. */
function fakeLogs(groups: string[] = ['/aws/lambda/f']) {
  const streams = new Map<string, LogEvent[]>();
  const known = new Set(groups);
  const calls: string[] = [];
  let down = false;
  const api: LogsApi = {
    async createLogStream(group, stream) {
      calls.push(`createLogStream ${stream}`);
      if (down) throw new Error('connect ECONNREFUSED');
      if (!known.has(group)) throw new GroupMissing(group);
      if (!streams.has(`${group}|${stream}`)) streams.set(`${group}|${stream}`, []);
    },
    async createLogGroup(group) {
      calls.push(`createLogGroup ${group}`);
      known.add(group);
    },
    async putLogEvents(group, stream, events) {
      calls.push(`putLogEvents ${stream} ${events.length}`);
      if (down) throw new Error('connect ECONNREFUSED');
      const held = streams.get(`${group}|${stream}`);
      if (!held || !known.has(group)) throw new StreamMissing(stream);
      for (let i = 1; i < events.length; i++) expect(events[i]!.timestamp).toBeGreaterThanOrEqual(events[i - 1]!.timestamp);
      held.push(...events);
    },
  };
  return { api, streams, calls, known, setDown: (d: boolean) => (down = d) };
}

describe("function logs into CloudWatch Logs", () => {
  it('puts each stream its lines in time order, creating the stream once', async () => {
    const cw = fakeLogs();
    const shipper = new LogShipper(cw.api);
    shipper.add('/aws/lambda/f', 's1', 'START', 3);
    shipper.add('/aws/lambda/f', 's2', 'other environment', 1);
    shipper.add('/aws/lambda/f', 's1', 'first', 1);
    await shipper.flush();
    shipper.add('/aws/lambda/f', 's1', 'REPORT', 5);
    await shipper.flush();
    expect(cw.streams.get('/aws/lambda/f|s1')!.map((e) => e.message)).toEqual(['first', 'START', 'REPORT']);
    expect(cw.streams.get('/aws/lambda/f|s2')!.map((e) => e.message)).toEqual(['other environment']);
    expect(cw.calls.filter((c) => c === 'createLogStream s1')).toHaveLength(1);
    expect(shipper.stats).toEqual({ shipped: 4, held: 0, dropped: 0 });
  });

  it('creates a missing group (Lambda does) and a stream removed meanwhile', async () => {
    const cw = fakeLogs([]);
    const shipper = new LogShipper(cw.api);
    shipper.add('/custom/group', 's', 'line', 1);
    await shipper.flush();
    expect(cw.calls).toEqual(['createLogStream s', 'createLogGroup /custom/group', 'createLogStream s', 'putLogEvents s 1']);
    cw.streams.delete('/custom/group|s');
    shipper.add('/custom/group', 's', 'again', 2);
    await shipper.flush();
    expect(cw.streams.get('/custom/group|s')!.map((e) => e.message)).toEqual(['again']);
  });

  it('holds the lines while CloudWatch is away and puts them, in order, when it is back', async () => {
    const cw = fakeLogs();
    const errors: unknown[] = [];
    const shipper = new LogShipper(cw.api, { onError: (e) => errors.push(e) });
    cw.setDown(true);
    shipper.add('/aws/lambda/f', 's', 'a', 1);
    await shipper.flush();
    shipper.add('/aws/lambda/f', 's', 'b', 2);
    expect(shipper.stats).toEqual({ shipped: 0, held: 2, dropped: 0 });
    cw.setDown(false);
    await shipper.flush();
    expect(cw.streams.get('/aws/lambda/f|s')!.map((e) => e.message)).toEqual(['a', 'b']);
    expect(errors).toHaveLength(1);
  });

  it('drops the oldest lines past its bound, and counts them', async () => {
    const cw = fakeLogs();
    const shipper = new LogShipper(cw.api, { maxHeldEvents: 3 });
    for (let i = 0; i < 5; i++) shipper.add('/aws/lambda/f', i % 2 ? 'odd' : 'even', `line ${i}`, i);
    expect(shipper.stats).toEqual({ shipped: 0, held: 3, dropped: 2 });
    await shipper.flush();
    const kept = [...cw.streams.values()].flat().map((e) => e.message).sort();
    expect(kept).toEqual(['line 2', 'line 3', 'line 4']);
  });

  it("splits batches at PutLogEvents' limits: 10,000 events, 1,048,576 bytes (26 bytes an event)", () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({ timestamp: i, message: 'x' }));
    expect(batchesOf(many).map((b) => b.length)).toEqual([10_000, 1]);
    // 4 events of the largest size fill a call exactly; 200,026 bytes an event, 5 fit.
    const largest = Array.from({ length: 5 }, (_, i) => ({ timestamp: i, message: 'y'.repeat(262_144 - 26) }));
    expect(batchesOf(largest).map((b) => b.length)).toEqual([4, 1]);
    const big = Array.from({ length: 6 }, (_, i) => ({ timestamp: i, message: 'y'.repeat(200_000) }));
    expect(batchesOf(big).map((b) => b.length)).toEqual([5, 1]);
  });

  it('cuts a line over 256 KB (bytes, never inside a character)', () => {
    const line = 'é'.repeat(200_000); // 400,000 bytes
    const cut = fitEvent(line);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(262_144 - 26);
    expect(cut.endsWith(' [truncated]')).toBe(true);
    expect(cut).not.toContain('\uFFFD');
    expect(fitEvent('short')).toBe('short');
  });
});
