// A SAM template (AWS::Serverless::Function, PackageType Image) for the stack's functions, so that
// `sam local invoke` and `sam local start-lambda` run the very images `make build` made, with the
// environment the stack's template gives them: how the compatibility suite and `make bench` put
// our images in SAM's hands. (SAM reads CDK templates too, but pulls their ECR images by digest.)
import { stringify } from 'yaml';
import type { FunctionPlan } from '../local-lambda/template/plan';

export interface SamTemplateOptions {
  /** `<project>/<function>:<tag>` of a function. */
  image: (fn: FunctionPlan) => string;
  /** A function's environment (its own variables and what the local run adds, e.g. AWS_ENDPOINT_URL). */
  environment: (fn: FunctionPlan) => Record<string, string>;
}

/** The logical id SAM knows a function by: its function folder, PascalCased (`csv-import` -> `CsvImport`). */
export const samLogicalId = (folder: string): string =>
  folder
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');

/** Lambda reserves these: SAM refuses a template that sets them. */
const RESERVED = /^(AWS_(REGION|DEFAULT_REGION|LAMBDA_.*|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|EXECUTION_ENV)|_HANDLER|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

export function samTemplate(functions: readonly FunctionPlan[], options: SamTemplateOptions): string {
  const resources = Object.fromEntries(
    functions.map((fn) => [
      samLogicalId(fn.repository.split('/').pop()!),
      {
        Type: 'AWS::Serverless::Function',
        Properties: {
          PackageType: 'Image',
          ImageUri: options.image(fn),
          Timeout: fn.timeoutSeconds,
          MemorySize: fn.memoryMb,
          Environment: { Variables: Object.fromEntries(Object.entries(options.environment(fn)).filter(([k]) => !RESERVED.test(k))) },
        },
      },
    ]),
  );
  return stringify({ AWSTemplateFormatVersion: '2010-09-09', Transform: 'AWS::Serverless-2016-10-31', Resources: resources });
}
