// Unit tests: pure code, no Docker, no network. `make test-unit`.
import { sharedJestConfig } from './jest.shared.js';

export default {
  ...sharedJestConfig,
  displayName: 'unit',
  roots: ['<rootDir>/functions', '<rootDir>/bridge', '<rootDir>/stack', '<rootDir>/scripts'],
  testMatch: ['**/*.test.ts'],
};
