// What `make up` prints once the stack is deployed: what LocalStack created and what the local
// Lambda service serves, the names the template made (the bucket to copy to), and what to try.
//   npx tsx scripts/stack-summary.ts            (make up runs it; `make outputs` too)
import { LAMBDA_API_URL } from '../toolkit/ports';
import { functionOf, output, readStack, type StackView } from '../toolkit/stack';

async function main(): Promise<void> {
  const view: StackView = await readStack();
  const health = (await (await fetch(`${LAMBDA_API_URL}/health`)).json()) as {
    localstack?: { action: string; seconds: number; resources: number };
    eventSourceMappings: string[];
    schedules: string[];
    functions: Record<string, { initError?: { errorType: string; errorMessage: string }; startError?: string; reservedConcurrency?: number }>;
    account?: { concurrency: number; awsDefaultConcurrency: number };
    limits?: { idleEnvironmentSeconds: number; tmp: { kind: string; why?: string } };
    iam?: { mode: string };
  };
  const served = view.resources.filter((r) => r.owner === 'local-lambda');
  const ls = health.localstack;
  console.log(`\nThe stack ${view.name} is up.`);
  if (ls) console.log(`  LocalStack's CloudFormation: ${ls.resources} resources, ${ls.action}${ls.action === 'unchanged' ? '' : ` in ${ls.seconds.toFixed(1)} s`}`);
  console.log(`  the local Lambda service: ${served.length} resources: ${view.functions.length} functions, ${health.eventSourceMappings.length} event source mappings and Event queues, ${view.urls.length} Function URL${view.urls.length === 1 ? '' : 's'}, ${health.schedules.length} schedule${health.schedules.length === 1 ? '' : 's'}`);
  for (const fn of view.functions) {
    const reserved = health.functions[fn.name]?.reservedConcurrency;
    console.log(`    ${fn.image.padEnd(36)} ${fn.name}  (${fn.memoryMb} MB, ${fn.timeoutSeconds} s${reserved === undefined ? '' : `, reserved concurrency ${reserved}`}; logs: ${fn.logGroup})`);
  }
  if (health.account && health.limits) {
    console.log(`  environments start on demand (none yet) and go after ${health.limits.idleEnvironmentSeconds} s idle; account concurrency ${health.account.concurrency} (AWS: ${health.account.awsDefaultConcurrency.toLocaleString('en')}); watch them at ${LAMBDA_API_URL}/`);
    if (health.iam) {
      const iam = { enforce: 'each function runs as its role from the template: what it may not do is refused with AWS\'s AccessDenied', warn: 'IAM_MODE=warn: what a role may not do is logged (make logs), not refused', off: 'IAM_MODE=off: functions reach LocalStack unchecked, with its shared keys' }[health.iam.mode];
      if (iam) console.log(`  ${iam}`);
    }
    if (health.limits.tmp.kind !== 'volume') console.log(`  WARNING /tmp is a tmpfs counted against each function's memory: ${health.limits.tmp.why ?? 'loop devices unavailable'}`);
  }
  for (const s of health.schedules) console.log(`    schedule ${s}`);
  for (const [name, f] of Object.entries(health.functions)) {
    if (f.initError) console.log(`  WARNING ${name} fails its init: ${f.initError.errorType}: ${f.initError.errorMessage} (make logs FUNCTION=${name})`);
    if (f.startError) console.log(`  WARNING ${name} has no environment: ${f.startError}`);
  }
  console.log('  outputs (also: awslocal cloudformation describe-stacks):');
  for (const [key, value] of Object.entries(view.outputs).sort()) console.log(`    ${key.padEnd(30)} ${value}`);
  const uploads = output(view, 'UploadsBucketName');
  const thumbnails = view.outputs.ThumbnailsBucketName;
  const log = view.outputs.ProcessingLogTableName;
  console.log(`
Try:
  open http://127.0.0.1:9080/                                          # the dashboard: drop photos and CSV files
  awslocal s3 cp samples/photo.jpg s3://${uploads}/images/photo.jpg            # thumbnail + notify
  awslocal s3 cp samples/people.csv s3://${uploads}/imports/people/people.csv  # csv-import + notify${thumbnails ? `\n  awslocal s3 ls --recursive s3://${thumbnails}/` : ''}${log ? `\n  awslocal dynamodb scan --table-name ${log}` : ''}
  make invoke FUNCTION=report   # the daily report, now
  make demo                     # uploads the samples and prints what came out
  make logs FUNCTION=thumbnail  # its log group in CloudWatch Logs; make cost: what the run would cost
  make down                     # stop everything
The Lambda API is at ${LAMBDA_API_URL} (aws lambda invoke --endpoint-url ${LAMBDA_API_URL} --function-name ${safeFunction(view, 'report')} out.json).`);
}

const safeFunction = (view: StackView, folder: string): string => {
  try {
    return functionOf(view, folder).name;
  } catch {
    return '<function name>';
  }
};

main().catch((error: unknown) => {
  console.error(`make up: ${(error as Error).message}`);
  process.exitCode = 1;
});
