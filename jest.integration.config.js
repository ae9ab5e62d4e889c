// Integration suites: real LocalStack and real function containers. `make test-integration`.
import { sharedJestConfig } from './jest.shared.js';

export default {
  ...sharedJestConfig,
  displayName: 'integration',
  roots: ['<rootDir>/integration'],
  testMatch: ['**/*.test.ts'],
  // Containers start slowly on a cold CI machine; every wait inside a test polls with its own deadline.
  testTimeout: 300_000,
  maxWorkers: 1,
};
