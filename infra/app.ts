// The CDK app: the pipelines as one CloudFormation stack, checked by cdk-nag's AwsSolutions rules.
//   npx cdk synth                        (cdk.json runs this file) -> cdk.out/<stack>.template.json
//   npx cdk synth -c profile=test        the test stack: short timeouts, the report every minute
// `make synth` and `make up` write the template; `make deploy` sends it to AWS with the image
// digests `make push` recorded; the local run deploys the very same file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from './cdk-nag';
import { defaultConfig, testConfig, withChanges, type ConfigChanges, type PipelinesConfig } from './config';
import { readPushedImages, type PushedImage } from './images';
import { PipelinesStack, type PipelinesStackProps } from './pipelines-stack';

export const STACK_NAME = process.env.STACK_NAME ?? 'LambdaPipelines';

export interface AppOptions {
  config?: PipelinesConfig;
  images?: Record<string, PushedImage>;
  handlers?: PipelinesStackProps['handlers'];
  stackName?: string;
  outdir?: string;
}

/** The configuration a `profile` context names: the default stack, or `test` (with CONFIG_CHANGES JSON on top). */
export function configFor(profile: string | undefined, changes?: string): PipelinesConfig {
  let parsed: ConfigChanges | undefined;
  if (changes?.trim()) {
    try {
      parsed = JSON.parse(changes) as ConfigChanges;
    } catch (error) {
      throw new Error(`the context config-changes is not JSON: ${(error as Error).message}`);
    }
  }
  if (!profile || profile === 'default') return withChanges(defaultConfig, parsed);
  if (profile === 'test') return testConfig(parsed);
  throw new Error(`unknown profile "${profile}": use default or test`);
}

export function buildApp(options: AppOptions = {}): { app: App; pipelines: PipelinesStack } {
  // No analytics resource (AWS::CDK::Metadata): the template is the stack and nothing else.
  const app = new App({ analyticsReporting: false, ...(options.outdir && { outdir: options.outdir }) });
  // PROJECT (the Makefile's) names the image repositories and prefixes the bucket names.
  const config =
    options.config ??
    withChanges(configFor(app.node.tryGetContext('profile') as string | undefined, app.node.tryGetContext('config-changes') as string | undefined), process.env.PROJECT ? { project: process.env.PROJECT } : {});
  const pipelines = new PipelinesStack(app, options.stackName ?? STACK_NAME, {
    config,
    images: options.images ?? readPushedImages(),
    ...(options.handlers && { handlers: options.handlers }),
    description: 'Event-driven Lambda pipelines as container images (lambda-pipelines): S3 -> SNS -> SQS -> Lambda, DynamoDB Streams -> Lambda',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, pipelines };
}

/** The stack's CloudFormation template, synthesized in this process (a suite's test stack). */
export function synthesize(built: { app: App; pipelines: PipelinesStack }): Record<string, unknown> {
  const assembly = built.app.synth();
  return JSON.parse(readFileSync(join(assembly.directory, built.pipelines.templateFile), 'utf8')) as Record<string, unknown>;
}

/** A fresh output folder for an in-process synth (suites never write into cdk.out/). */
export const scratchOutdir = (): string => mkdtempSync(join(tmpdir(), 'cdk-out-'));

// `npx cdk synth` sets CDK_OUTDIR; `npx tsx infra/app.ts` (what `make up` runs: no CLI start-up) writes cdk.out/.
if (process.argv[1]?.endsWith('app.ts')) {
  const { app, pipelines } = buildApp({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' });
  const assembly = app.synth();
  if (!process.env.CDK_OUTDIR) console.log(`synth: ${join(assembly.directory, pipelines.templateFile).replace(`${process.cwd()}/`, '')}`);
}
