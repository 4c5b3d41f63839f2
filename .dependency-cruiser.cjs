/** The domain core is pure: it never imports a transport, a GraphQL library or Node's I/O. */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain holds the rules as pure functions and plain data: no GraphQL, HTTP, WebSocket, timers or I/O.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        path: [
          'node_modules/(graphql|graphql-yoga|@graphql-yoga|@pothos|graphql-ws|ws|@envelop)/',
          '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|child_process|cluster|worker_threads|timers|timers/promises|dns|tls|readline|process)$',
        ],
      },
    },
    {
      name: 'domain-stays-inside',
      comment: 'The domain depends on nothing outside src/domain.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'redis-only-in-cluster',
      comment: 'src/cluster/ is the only place Transit talks to Redis (docs/contract.md §13).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cluster/' },
      to: { path: 'node_modules/ioredis/' },
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
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
