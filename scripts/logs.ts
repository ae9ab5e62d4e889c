// `make logs FUNCTION=thumbnail`: follows a function's log: Lambda's START, END and REPORT lines and
// its environments' output, whichever environment wrote them (they come and go with the load; the
// local Lambda service keeps their lines), a line at a time with the time and the environment.
//   npx tsx scripts/logs.ts <function folder | function name>
import { followFunctionLogs, formatFunctionLine } from '../toolkit/function-logs';
import { functionOf, readStack } from '../toolkit/stack';

async function main(): Promise<void> {
  const which = process.argv[2] ?? '';
  const fn = functionOf(await readStack(), which);
  console.log(`==> following ${fn.name} (${fn.image}); Ctrl-C stops`);
  followFunctionLogs(fn.name, (line) => console.log(formatFunctionLine(line)));
}

main().catch((error: unknown) => {
  console.error(`logs: ${(error as Error).message}`);
  process.exitCode = 1;
});
