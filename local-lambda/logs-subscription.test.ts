import { readAwslogsEvent, SubscriptionDelivery, type SubscriptionPlan } from './logs-subscription';

const errors: SubscriptionPlan = { logicalId: 'ThumbnailErrors', name: 'errors', logGroup: '/aws/lambda/thumbnail', filterPattern: '?"\\"level\\":\\"error\\"" ?"Status: error"', function: 'audit' };

function setup(subscriptions: SubscriptionPlan[] = [errors], maxPayloadBytes = 1_048_576) {
  const sent: Array<{ fn: string; event: { awslogs: { data: string } } }> = [];
  const delivery = new SubscriptionDelivery(subscriptions, { owner: '000000000000', maxPayloadBytes, invoke: async (fn, payload) => void sent.push({ fn, event: JSON.parse(payload.toString()) }), now: () => 1_000 });
  return { delivery, sent };
}

describe('CloudWatch Logs subscription filters to a function', () => {
  it('sends the matching events of each stream once, as AWS sends them (gzipped, base64, DATA_MESSAGE)', async () => {
    const { delivery, sent } = setup();
    delivery.add('/aws/lambda/thumbnail', 's1', 'START RequestId: r1 Version: $LATEST');
    delivery.add('/aws/lambda/thumbnail', 's1', '{"level":"error","message":"sharp failed"}');
    delivery.add('/aws/lambda/thumbnail', 's2', 'REPORT RequestId: r2\tDuration: 1.00 ms\tStatus: error\tError Type: Runtime.Unhandled');
    delivery.add('/aws/lambda/notify', 's3', '{"level":"error","message":"another group"}');
    await delivery.flush();
    await delivery.flush();
    expect(sent.map((s) => s.fn)).toEqual(['audit', 'audit']);
    const payloads = sent.map((s) => readAwslogsEvent(s.event));
    expect(payloads[0]).toMatchObject({ messageType: 'DATA_MESSAGE', owner: '000000000000', logGroup: '/aws/lambda/thumbnail', logStream: 's1', subscriptionFilters: ['errors'], logEvents: [{ timestamp: 1_000, message: '{"level":"error","message":"sharp failed"}' }] });
    expect(payloads[1]!.logEvents.map((e) => e.message)).toEqual(['REPORT RequestId: r2\tDuration: 1.00 ms\tStatus: error\tError Type: Runtime.Unhandled']);
    expect(new Set(payloads.flatMap((p) => p.logEvents.map((e) => e.id))).size).toBe(2);
  });

  it('splits what does not fit one invocation, losing nothing', async () => {
    const { delivery, sent } = setup([{ ...errors, filterPattern: '' }], 64 * 1024);
    for (let i = 0; i < 200; i++) delivery.add('/aws/lambda/thumbnail', 's', `line ${i} ${'x'.repeat(1_000)}`);
    await delivery.flush();
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect(Buffer.byteLength(JSON.stringify(s.event))).toBeLessThanOrEqual(64 * 1024);
    expect(sent.flatMap((s) => readAwslogsEvent(s.event).logEvents.map((e) => e.message.split(' ')[1]))).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('refuses a pattern it cannot read when it is set up', () => {
    expect(() => setup([{ ...errors, filterPattern: '[ip, user]' }])).toThrow('space-delimited filter patterns are not implemented locally');
  });
});
