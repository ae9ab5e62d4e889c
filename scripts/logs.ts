// `make logs FUNCTION=thumbnail`: follows a function's log group in CloudWatch Logs (LocalStack's),
// as `aws logs tail --follow` would: Lambda's START, END and REPORT lines and its environments'
// output, whichever environment wrote them (one stream each), from the last 10 minutes on.
//   npx tsx scripts/logs.ts <function folder | function name>     SINCE=1h: from further back
import { logsClient } from '../toolkit/clients';
import { followLogGroup, sinceMs } from '../toolkit/log-group';
import { functionOf, readStack } from '../toolkit/stack';

async function main(): Promise<void> {
  const which = process.argv[2] ?? '';
  const fn = functionOf(await readStack(), which);
  const startTime = sinceMs(process.env.SINCE ?? '10m')!;
  console.log(`==> following ${fn.logGroup} (${fn.name}, ${fn.image}) since ${new Date(startTime).toISOString()}; Ctrl-C stops`);
  console.log(`    the same with the AWS CLI: aws logs tail ${fn.logGroup} --follow --endpoint-url http://127.0.0.1:4566`);
  let warned = false;
  followLogGroup(
    logsClient(),
    fn.logGroup,
    (e) => console.log(`${new Date(e.timestamp).toISOString().slice(11, 23)} ${e.logStreamName.slice(-8)} ${e.message}`),
    {
      startTime,
      onError: (error) => {
        if (warned) return;
        warned = true;
        console.error(`logs: ${(error as Error).name === 'ResourceNotFoundException' ? `${fn.logGroup} has no log yet (no invocation so far); waiting` : (error as Error).message}`);
      },
    },
  );
}

main().catch((error: unknown) => {
  console.error(`logs: ${(error as Error).message}`);
  process.exitCode = 1;
});
