const os = require('node:os');

/** Jest runs TypeScript through SWC (type checking is `npm run typecheck`). */
const swc = [
  '@swc/jest',
  { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
];
const common = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // ESM-only packages that must be transformed to run under Jest's CommonJS loader.
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
  testEnvironment: 'node',
  // npm run package stages a copy of the app (same package name) there.
  modulePathIgnorePatterns: ['<rootDir>/.package/'],
  // The Node worker provides @azure/functions-core at run time; tests get devhost's worker role.
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/test/support/functions-core.ts' },
};
module.exports = {
  // Jest's default is one worker per core less one: one worker on a 2-core machine. The tests spend
  // much of their time waiting on the local servers and devhost child processes, so two workers
  // there finish the suite sooner (the files share no state: each uses its own names or servers).
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  projects: [
    {
      ...common,
      displayName: 'unit',
      // Port contract runs against fakes and local adapters; those needing local services end in
      // .integration.test.ts and run in the integration project.
      testMatch: [
        '<rootDir>/test/unit/**/*.test.ts',
        '<rootDir>/test/orchestrations/**/*.test.ts',
        '<rootDir>/test/contracts/**/!(*.integration).test.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
        '<rootDir>/test/contracts/**/*.integration.test.ts',
      ],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
  ],
};
