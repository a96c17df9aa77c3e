/**
 * Layer rules (README "Layout"): dependencies point inward. Each layer has an allow-list, a rule
 * that reports every import NOT matching what the layer may use (`pathNot`), so a new kind of
 * dependency is an error until someone decides it belongs. test/unit/dependency-rules.test.ts runs
 * these rules on a small file tree and checks that forbidden imports are reported.
 */

/** Paths as dependency-cruiser reports them: repo-relative files, `node_modules/...`, core modules by name. */
const npm = (...packages) => `^node_modules/(${packages.join('|')})/`;
const node = (...modules) => `^(node:)?(${modules.join('|')})$`;
const anyOf = (...patterns) => patterns.join('|');

/** Builds the rule "files under `from` may import only `allowed`". */
const mayImportOnly = (name, comment, from, ...allowed) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { pathNot: anyOf(...allowed) },
});

const SHARED_TOP_LEVEL = '^shared/[^/]+\\.ts$';

module.exports = {
  forbidden: [
    mayImportOnly(
      'domain-may-import-only',
      'shared/domain is pure TypeScript: other domain modules, schema types and constants, zod, cron-parser (pure NCRONTAB arithmetic) and node:crypto for hashing (canonical JSON). No I/O, no SDKs.',
      '^shared/domain/',
      '^shared/(domain|schemas)/',
      npm('zod', 'cron-parser'),
      node('crypto'),
    ),
    mayImportOnly(
      'schemas-may-import-only',
      'shared/schemas are zod schemas: other schemas, domain constants and pure helpers, zod.',
      '^shared/schemas/',
      '^shared/(schemas|domain)/',
      npm('zod'),
    ),
    mayImportOnly(
      'ports-may-import-only',
      'shared/ports are interfaces over schemas and domain types; node:stream names the Readable bodies (as a type only, see ports-import-node-types-only).',
      '^shared/ports/',
      '^shared/(ports|schemas|domain)/',
      node('stream'),
    ),
    {
      name: 'ports-import-node-types-only',
      comment: 'A port is an interface: it may name Node types, never load Node modules.',
      severity: 'error',
      from: { path: '^shared/ports/' },
      to: { dependencyTypes: ['core'], dependencyTypesNot: ['type-only'] },
    },
    mayImportOnly(
      'usecases-may-import-only',
      'shared/usecases compose domain rules over ports: no adapters, SDKs, config or Node I/O (they get their dependencies handed in). Hashing and stream plumbing are computation, not I/O.',
      '^shared/usecases/',
      '^shared/(usecases|ports|schemas|domain)/',
      node('crypto', 'stream'),
    ),
    mayImportOnly(
      'config-may-import-only',
      'shared/config.ts validates process.env with zod; it needs nothing else.',
      '^shared/config\\.ts$',
      '^shared/(domain|schemas)/',
      npm('zod'),
    ),
    mayImportOnly(
      'adapters-may-import-only',
      'shared/adapters implement ports with SDKs and Node I/O; they may use anything in shared and any package (never triggers, devhost, cli or tests).',
      '^shared/adapters/',
      '^shared/',
      '^node_modules/',
      node('[a-z_/]+'),
    ),
    mayImportOnly(
      'composition-root-may-import-only',
      'Top-level shared modules other than config.ts are composition roots (shared/composition.ts): they wire adapters into use cases.',
      `(?!^shared/config\\.ts$)${SHARED_TOP_LEVEL}`,
      '^shared/',
      '^node_modules/',
      node('[a-z_/]+'),
    ),
    mayImportOnly(
      'triggers-may-import-only',
      'functions/ and orchestrations/ are thin triggers: parse with zod (multipart bodies with busboy, streamed), call use cases or the durable client; adapters and config only to wire the composition root. Node I/O belongs in adapters.',
      '^(functions|orchestrations)/',
      '^(functions|orchestrations)/',
      '^shared/',
      npm('@azure/functions', 'durable-functions', 'zod', 'busboy'),
      node('stream'),
    ),
    mayImportOnly(
      'cli-may-import-only',
      'The mlops command line is a composition root of its own over local adapters.',
      '^cli/',
      '^cli/',
      '^shared/',
      '^node_modules/',
      node('[a-z_/]+'),
    ),
    mayImportOnly(
      'devhost-may-import-only',
      "devhost stands in for the Functions host and Azure: it loads the app from dist/ at run time and may share the product's schemas, pure domain and settings, never its use cases, adapters or triggers.",
      '^devhost/',
      '^devhost/',
      '^shared/(schemas|domain)/',
      '^shared/config\\.ts$',
      '^node_modules/',
      node('[a-z_/]+'),
    ),
    {
      name: 'product-does-not-import-tooling',
      comment:
        'The deployed app must not depend on the local host, the CLI, tests or benchmarks (none of them ship).',
      severity: 'error',
      from: { path: '^(functions|orchestrations|shared)/' },
      to: { path: '^(devhost|cli|test|bench)/' },
    },
    {
      name: 'product-uses-production-packages',
      comment:
        'Only dependencies are installed in the Function App; devDependencies are for devhost, tests and tools.',
      severity: 'error',
      from: { path: '^(functions|orchestrations|shared|cli)/' },
      to: { dependencyTypes: ['npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled'] },
    },
    {
      name: 'packages-are-declared',
      comment:
        'Every package imported is in package.json (a transitive dependency can vanish with any update).',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'imports-resolve',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'file-outside-layers',
      comment: 'Every module belongs to a layer above; a new folder needs its own allow-list.',
      severity: 'error',
      from: {
        pathNot: anyOf(
          '^shared/(domain|schemas|ports|usecases|adapters)/',
          SHARED_TOP_LEVEL,
          '^(functions|orchestrations|cli|devhost)/',
        ),
      },
      to: {},
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist|^test|^bench)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
