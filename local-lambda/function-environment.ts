// The environment of a function's container: the function's own variables from the template, and
// what Lambda sets beside them (its reserved AWS_* and _HANDLER), and what only the local run sets
// (where the function reaches LocalStack, and where a browser does). One place, for the service's
// environments and for the suites and tools that run an image by hand.
import type { FunctionPlan } from './template/plan';

export interface LocalPlatform {
  region: string;
  /** Where the function reaches AWS (AWS_ENDPOINT_URL inside the container): the checking endpoint, or LocalStack. */
  endpointUrl: string;
  /** The function's own credentials (its role's, for the checking endpoint); unset: LocalStack's shared ones. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  /** Where a browser on the developer's machine reaches the same LocalStack (presigned URLs). */
  publicEndpointUrl?: string;
  /** `host:port` of the function's Runtime API; unset: the image's own emulator (RIE) answers on 8080. */
  runtimeApi?: string;
}

/** LocalStack's credentials (it checks none); real AWS never sees them. */
export const LOCAL_FUNCTION_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

export function functionEnvironment(fn: FunctionPlan, platform: LocalPlatform): Record<string, string> {
  return {
    ...fn.environment,
    AWS_REGION: platform.region,
    AWS_DEFAULT_REGION: platform.region,
    ...(platform.credentials
      ? { AWS_ACCESS_KEY_ID: platform.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: platform.credentials.secretAccessKey, AWS_SESSION_TOKEN: platform.credentials.sessionToken }
      : LOCAL_FUNCTION_CREDENTIALS),
    AWS_ENDPOINT_URL: platform.endpointUrl,
    ...(platform.publicEndpointUrl && { LOCAL_PUBLIC_ENDPOINT_URL: platform.publicEndpointUrl }),
    ...(platform.runtimeApi && { AWS_LAMBDA_RUNTIME_API: platform.runtimeApi }),
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroup,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    ...(fn.logFormat === 'JSON' && { AWS_LAMBDA_LOG_FORMAT: 'JSON' }),
    ...(fn.applicationLogLevel && { AWS_LAMBDA_LOG_LEVEL: fn.applicationLogLevel }),
    // Lambda sets _HANDLER from the image's CMD, or from ImageConfig.Command when the template gives one.
    ...(fn.command?.[0] && { _HANDLER: fn.command[0] }),
  };
}
