import { attributeChanges, sameNotifications } from './bootstrap-plan';
import { localPlan } from '#stack/local';
import { baseStack } from '#stack';
import { topology } from '#stack/topology';

const wanted = localPlan(topology(baseStack)).notifications[0]!.topicConfigurations;

describe('bootstrap: what already exists', () => {
  it('counts notifications as unchanged when S3 echoes them back capitalised and reordered', () => {
    const echoed = [...wanted].reverse().map((c) => ({
      ...c,
      Filter: c.Filter && { Key: { FilterRules: c.Filter.Key!.FilterRules!.map((r) => ({ Name: r.Name === 'prefix' ? 'Prefix' : 'Suffix', Value: r.Value })) } },
    }));
    expect(sameNotifications(echoed as typeof wanted, wanted)).toBe(true);
  });

  it('counts notifications as changed when a rule or a topic differs, or one is missing', () => {
    const otherPrefix = wanted.map((c, i) => (i === 0 ? { ...c, Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: 'img/' }] } } } : c));
    expect(sameNotifications(otherPrefix, wanted)).toBe(false);
    expect(sameNotifications(wanted.slice(1), wanted)).toBe(false);
    expect(sameNotifications([], [])).toBe(true);
  });

  it('finds no attribute change when SQS echoes the same policies with numbers as strings and keys reordered', () => {
    const dlq = 'arn:aws:sqs:us-east-1:000000000000:x-dlq';
    const current = { RedrivePolicy: `{"maxReceiveCount":"3","deadLetterTargetArn":"${dlq}"}`, VisibilityTimeout: '60', QueueArn: 'arn' };
    expect(attributeChanges(current, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq, maxReceiveCount: 3 }), VisibilityTimeout: '60' })).toEqual({});
  });

  it('holds only the attributes that are missing or differ', () => {
    const current = { VisibilityTimeout: '30', MessageRetentionPeriod: '1209600' };
    expect(attributeChanges(current, { VisibilityTimeout: '60', MessageRetentionPeriod: '1209600', Policy: '{}' })).toEqual({ VisibilityTimeout: '60', Policy: '{}' });
  });
});
