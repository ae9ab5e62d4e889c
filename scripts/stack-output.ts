// Prints one output of the running stack, for shell use:
//   uploads=$(npx tsx scripts/stack-output.ts UploadsBucketName)
import { output, readStack } from '../toolkit/stack';

const key = process.argv[2];
if (!key) {
  console.error('usage: npx tsx scripts/stack-output.ts <OutputKey>   (make outputs lists them)');
  process.exit(2);
}
readStack()
  .then((view) => console.log(output(view, key)))
  .catch((error: unknown) => {
    console.error(`${(error as Error).message}`);
    process.exitCode = 1;
  });
