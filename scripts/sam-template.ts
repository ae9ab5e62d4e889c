// A SAM template (AWS::Serverless::Function, PackageType Image) for the stack's images, so that
// `sam local invoke` and `sam local start-lambda` run the very images `make build` made: how the
// compatibility suite and `make bench` put our images in SAM's hands.
import { stringify } from 'yaml';
import type { StackSpec } from '#stack/model';
import { localEnvironment } from '#stack/local';
import { pascal } from '../infra/pipelines-stack';

export interface SamTemplateOptions {
  /** `<project>/<function>:<tag>` */
  image: (fn: string) => string;
  /** Extra environment for every function, e.g. AWS_ENDPOINT_URL. */
  environment?: Record<string, string>;
}

/** The logical id SAM knows a function by. */
export const samLogicalId = (fn: string): string => pascal(fn);

export function samTemplate(stack: StackSpec, options: SamTemplateOptions): string {
  const resources = Object.fromEntries(
    stack.functions.map((fn) => [
      samLogicalId(fn.name),
      {
        Type: 'AWS::Serverless::Function',
        Properties: {
          PackageType: 'Image',
          ImageUri: options.image(fn.name),
          Timeout: fn.timeoutSeconds,
          MemorySize: fn.memoryMb,
          Environment: { Variables: { ...localEnvironment(fn), ...options.environment } },
        },
      },
    ]),
  );
  return stringify({ AWSTemplateFormatVersion: '2010-09-09', Transform: 'AWS::Serverless-2016-10-31', Resources: resources });
}
