/** Layer rules from ARCHITECTURE.md: dependencies point inward. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'shared/domain is pure TypeScript: no I/O, no Azure SDKs, no other layer.',
      severity: 'error',
      from: { path: '^shared/domain' },
      to: {
        path: '^(shared/(adapters|usecases|ports)|functions|orchestrations|devhost)|node_modules/@azure|^(fs|net|http|https|child_process)$',
      },
    },
    {
      name: 'domain-no-io-modules',
      severity: 'error',
      from: { path: '^shared/domain' },
      to: { dependencyTypes: ['core'], path: '^(fs|net|http|https|child_process|dgram|tls|zlib)$' },
    },
    {
      name: 'schemas-are-leaf',
      comment: 'schemas may use zod and domain constants only',
      severity: 'error',
      from: { path: '^shared/schemas' },
      to: { path: '^(shared/(adapters|usecases|ports)|functions|orchestrations|devhost)' },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      from: { path: '^shared/ports' },
      to: { path: '^(shared/(adapters|usecases)|functions|orchestrations|devhost)' },
    },
    {
      name: 'usecases-use-ports-not-adapters',
      severity: 'error',
      from: { path: '^shared/usecases' },
      to: { path: '^(shared/adapters|functions|orchestrations|devhost)|node_modules/@azure' },
    },
    {
      name: 'adapters-do-not-call-triggers',
      severity: 'error',
      from: { path: '^shared/adapters' },
      to: { path: '^(functions|orchestrations|devhost)' },
    },
    {
      name: 'product-does-not-import-devhost',
      severity: 'error',
      from: { path: '^(functions|orchestrations|shared)' },
      to: { path: '^devhost' },
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
