// The images the CDK app deploys: the digests `make push` recorded (infra/pushed-images.json, not
// committed: it belongs to your account). A function missing from it gets a placeholder digest, so
// `make synth` works on a fresh clone; `make deploy` refuses to deploy placeholders.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const PUSHED_IMAGES_FILE = process.env.PUSHED_IMAGES_FILE ?? 'infra/pushed-images.json';

export interface PushedImage {
  /** ECR repository name, e.g. `lambda-pipelines/thumbnail`. */
  repository: string;
  /** `sha256:...` */
  digest: string;
  /** The registry it was pushed to, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`. */
  registry: string;
  /** The git sha the image was built from. */
  tag: string;
}

export function readPushedImages(file = PUSHED_IMAGES_FILE): Record<string, PushedImage> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, PushedImage>;
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}): run make push again`);
  }
}

/** Merges what one `make push` pushed into the record (a push of one function keeps the others). */
export function recordPushedImages(images: Record<string, PushedImage>, file = PUSHED_IMAGES_FILE): void {
  writeFileSync(file, `${JSON.stringify({ ...readPushedImages(file), ...images }, null, 2)}\n`);
}
