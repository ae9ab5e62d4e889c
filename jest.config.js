// Unit tests: pure code, no Docker, no network. `make test-unit`.
import { sharedJestConfig } from './jest.shared.js';

export default {
  ...sharedJestConfig,
  displayName: 'unit',
  testMatch: ['<rootDir>/{functions,local-lambda,infra,scripts,toolkit}/**/*.test.ts'],
};
