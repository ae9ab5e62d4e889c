// The stack the local Lambda service deployed, as its /stack endpoint describes it: the template's
// outputs (bucket and table names, queue URLs, the API's URL), its functions and their names. The
// scripts, the bench and the suites look names up here: physical names are the ones the template
// makes, never written a second time.
import { LAMBDA_API_URL } from './ports';

export interface StackFunction {
  logicalId: string;
  name: string;
  arn: string;
  /** `<project>/<function folder>:<tag>` */
  image: string;
  memoryMb: number;
  timeoutSeconds: number;
  architecture: 'x86_64' | 'arm64';
  ephemeralStorageMb: number;
  /** Its CloudWatch Logs group (LoggingConfig.LogGroup, else /aws/lambda/<name>). */
  logGroup: string;
  command?: string[];
}

export interface StackView {
  name: string;
  status: string;
  outputs: Record<string, string>;
  functions: StackFunction[];
  schedules: Array<{ name: string; arn: string; function: string; expression: string; timezone: string; input?: string }>;
  urls: Array<{ function: string; url: string; authType: string }>;
  resources: Array<{ logicalId: string; type: string; physicalId: string; owner: string }>;
}

export class StackLookupError extends Error {
  override name = 'StackLookupError';
}

/** The deployed stack, from the local Lambda service (`make up` must have run). */
export async function readStack(lambdaApi = process.env.LAMBDA_API_URL ?? LAMBDA_API_URL): Promise<StackView> {
  let res: Response;
  try {
    res = await fetch(`${lambdaApi}/stack`);
  } catch (error) {
    throw new StackLookupError(`the local Lambda service does not answer at ${lambdaApi} (${(error as Error).message}): is the stack up (make up)?`);
  }
  if (!res.ok) throw new StackLookupError(`the local Lambda service answered ${res.status} at ${lambdaApi}/stack`);
  const view = (await res.json()) as StackView;
  if (view.status !== 'ok') throw new StackLookupError(`the stack is ${view.status} (curl ${lambdaApi}/health says why)`);
  return view;
}

/** One output of the stack, e.g. `UploadsBucketName`; a missing one names those there are. */
export function output(view: Pick<StackView, 'outputs'>, key: string): string {
  const value = view.outputs[key];
  if (value === undefined) throw new StackLookupError(`the stack has no output ${key} (it has ${Object.keys(view.outputs).sort().join(', ')})`);
  return value;
}

/** The function whose image is built from functions/<folder>/ (`thumbnail`), or given by its name or logical id. */
export function functionOf(view: Pick<StackView, 'functions'>, which: string): StackFunction {
  const folder = (f: StackFunction) => f.image.replace(/:[^:/]*$/, '').split('/').pop();
  const exact = view.functions.find((f) => f.name === which || f.logicalId === which);
  if (exact) return exact;
  const byFolder = view.functions.filter((f) => folder(f) === which && !f.command);
  if (byFolder.length === 1) return byFolder[0]!;
  const known = view.functions.map((f) => `${folder(f)} (${f.name})`).join(', ');
  throw new StackLookupError(byFolder.length > 1 ? `several functions run functions/${which}/: name one of ${byFolder.map((f) => f.name).join(', ')}` : `no function "${which}" in the stack (there are: ${known})`);
}
