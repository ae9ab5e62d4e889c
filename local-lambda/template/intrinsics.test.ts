import { resolveString, resolveValue, type ResolveContext } from './intrinsics';
import { referencedIds } from './template';
import { TemplateError } from './template';

const ctx: ResolveContext = {
  ref: (id, at) => {
    const values: Record<string, string> = { 'AWS::Region': 'us-east-1', 'AWS::AccountId': '000000000000', Table: 'LambdaPipelines-Table-1a2b', Queue: 'http://localstack:4566/queue/q' };
    if (values[id] === undefined) throw new TemplateError(`${at}: Ref ${id}: unknown`);
    return values[id]!;
  },
  getAtt: (id, attribute) => `${id}.${attribute}:value`,
  mappings: { Sizes: { small: { width: '128' } } },
};

describe('intrinsic functions, resolved as CloudFormation resolves them', () => {
  it('resolves Ref, GetAtt (both forms), Join, Sub (with and without a map), Select, Split, Base64 and FindInMap', () => {
    expect(resolveValue({ Ref: 'Table' }, ctx, 'x')).toBe('LambdaPipelines-Table-1a2b');
    expect(resolveValue({ 'Fn::GetAtt': ['Queue', 'Arn'] }, ctx, 'x')).toBe('Queue.Arn:value');
    expect(resolveValue({ 'Fn::GetAtt': 'Queue.QueueName' }, ctx, 'x')).toBe('Queue.QueueName:value');
    expect(resolveValue({ 'Fn::Join': ['', ['a-', { Ref: 'AWS::Region' }, '-', { 'Fn::GetAtt': ['T', 'StreamArn'] }]] }, ctx, 'x')).toBe('a-us-east-1-T.StreamArn:value');
    expect(resolveValue({ 'Fn::Sub': 'arn:aws:s3:::${Table}/${!Literal}/${Queue.Arn}' }, ctx, 'x')).toBe('arn:aws:s3:::LambdaPipelines-Table-1a2b/${Literal}/Queue.Arn:value');
    expect(resolveValue({ 'Fn::Sub': ['${A}-${AWS::AccountId}', { A: { Ref: 'Table' } }] }, ctx, 'x')).toBe('LambdaPipelines-Table-1a2b-000000000000');
    expect(resolveValue({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, ctx, 'x')).toBe('b');
    expect(resolveValue({ 'Fn::Base64': 'hi' }, ctx, 'x')).toBe('aGk=');
    expect(resolveValue({ 'Fn::FindInMap': ['Sizes', 'small', 'width'] }, ctx, 'x')).toBe('128');
  });

  it('resolves inside objects and lists, leaving literals alone', () => {
    expect(resolveValue({ Variables: { T: { Ref: 'Table' }, N: '3', L: [{ Ref: 'AWS::Region' }, 1] } }, ctx, 'x')).toEqual({ Variables: { T: 'LambdaPipelines-Table-1a2b', N: '3', L: ['us-east-1', 1] } });
  });

  it('refuses what it does not implement, and bad arguments, naming the function and where it stands', () => {
    expect(() => resolveValue({ 'Fn::If': ['C', 'a', 'b'] }, ctx, 'Resources.F.Properties.Timeout')).toThrow(/^Resources\.F\.Properties\.Timeout: Fn::If is not supported by the local Lambda service \(it resolves Ref, Fn::GetAtt/);
    expect(() => resolveValue({ 'Fn::ImportValue': 'x' }, ctx, 'here')).toThrow('here: Fn::ImportValue is not supported');
    expect(() => resolveValue({ 'Fn::Select': [5, ['a']] }, ctx, 'here')).toThrow("here: Fn::Select's index 5 is outside the list of 1");
    expect(() => resolveString({ 'Fn::Split': [',', 'a,b'] }, ctx, 'Resources.F.Properties.Environment.Variables.X')).toThrow(/^Resources\.F\.Properties\.Environment\.Variables\.X: the value must be a string/);
    expect(() => resolveValue({ Ref: 'Nowhere' }, ctx, 'there')).toThrow('there: Ref Nowhere: unknown');
  });

  it('finds the resources an expression refers to, in Fn::Sub strings too (not its own variables)', () => {
    expect([...referencedIds({ a: { Ref: 'A' }, b: [{ 'Fn::GetAtt': ['B', 'Arn'] }], c: { 'Fn::Sub': ['${C}-${D.Arn}-${V}-${!E}', { V: { Ref: 'F' } }] } })].sort()).toEqual(['A', 'B', 'C', 'D', 'F']);
  });
});
