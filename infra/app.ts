// The CDK app: the stack description (stack/stack.ts) as one CloudFormation stack, checked by
// cdk-nag's AwsSolutions rules. `make synth` writes cdk.out/<stack>.template.json; `make deploy`
// deploys it with the image digests `make push` recorded.
//   npx cdk synth     (cdk.json runs this file)
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from './cdk-nag';
import { stack } from '#stack';
import { readPushedImages } from './images';
import { PipelinesStack } from './pipelines-stack';

export const STACK_NAME = process.env.STACK_NAME ?? 'LambdaPipelines';
export const PROJECT = process.env.PROJECT ?? 'lambda-pipelines';

export function buildApp(images = readPushedImages()): { app: App; pipelines: PipelinesStack } {
  const app = new App();
  const pipelines = new PipelinesStack(app, STACK_NAME, {
    spec: stack,
    project: PROJECT,
    images,
    description: 'Event-driven Lambda pipelines as container images (lambda-pipelines): S3 -> SNS -> SQS -> Lambda, DynamoDB Streams -> Lambda',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, pipelines };
}

if (process.argv[1]?.endsWith('app.ts')) buildApp().app.synth();
