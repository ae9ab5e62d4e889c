// The functions of this repository: every folder under functions/ with a handler.ts is one, built
// into an image of its own (`<project>/<folder>`) from the one Dockerfile.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const functionFolders = (root = '.'): string[] =>
  readdirSync(join(root, 'functions'))
    .filter((f) => existsSync(join(root, 'functions', f, 'handler.ts')))
    .sort();
