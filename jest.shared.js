// Jest settings shared by the unit and the integration configs.
// TypeScript is compiled by swc to CommonJS for the test run only; production code is bundled
// to ESM by esbuild (docker/Dockerfile), so keep source free of import.meta.
export const sharedJestConfig = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
        module: { type: 'commonjs' },
      },
    ],
  },
  // csv-parse, csv-stringify and zod ship ESM as "module" packages: let swc compile them too.
  transformIgnorePatterns: ['/node_modules/(?!(csv-parse|csv-stringify|zod)/)'],
  moduleNameMapper: {
    '^#shared/(.*)$': '<rootDir>/functions/shared/$1',
  },
};
