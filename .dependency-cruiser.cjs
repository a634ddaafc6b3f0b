// The rooms of src/ and which rooms each may import (DESIGN §2: dependencies point inward).
// `npm run lint` runs this over src/ (tests and bench are out of scope) and fails on any violation.
//
//   domain ← db ← runs ← access                (a ← b: b may import a, and what a may)
//                      ← flow ← execution ← lifecycle
//                                         ← fleet        (parents and children, DESIGN §19)
//   domain ← db ← insights                  (rollups and charts, DESIGN §18)
//   domain ← db ← runs, insights ← alerts   (rules, evaluation, delivery, DESIGN §18)
//   http (edge): anything but cli, web and the demo catalog
//   cli (edge):  anything but web
//   catalog:     the public library (src/index.ts), execution and domain
//   web:         its own files, src/http/schemas.ts, and types from domain
//   client:      its own files only (shipped as runwarden/client)
//   fastify:     the host-server plugin (runwarden/fastify): http, access, db, domain, the library root
//
// config.ts and logger.ts are the process's shared kernel: they import nothing of ours, and any
// room but domain and web may import them. index.ts and runwarden.ts are the library's composition
// root: no inner room may import them.

/** Our own modules: packages resolve under node_modules/ and Node's own to bare names, never src/. */
const ours = '^src/';
const kernel = '^src/(config|logger|version)[.]ts$';
const libraryRoot = '^src/(index|runwarden)[.]ts$';

/** A room that may import only itself, the named rooms, and the shared kernel. */
function only(room, allowed, why) {
  return {
    name: `${room}-imports-only-${allowed.length ? allowed.join('-') : 'itself'}`,
    comment: `src/${room} ${why}`,
    severity: 'error',
    from: { path: `^src/${room}/` },
    to: { path: ours, pathNot: [`^src/(${[room, ...allowed].join('|')})/`, kernel] },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'src/domain is pure TypeScript with no I/O: it imports nothing of ours (DESIGN §2). Move the ' +
        'code that needs the import outward, or pass what it needs in as a value or a port type.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: ours, pathNot: '^src/domain/' },
    },
    {
      name: 'client-is-standalone',
      comment:
        'src/client is the HTTP client shipped as runwarden/client: it imports only its own files ' +
        '(the types generated from the OpenAPI document), so it carries no server code.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: ours, pathNot: '^src/client/' },
    },
    only('db', ['domain'], 'may import only src/domain (and config.ts, logger.ts).'),
    only('runs', ['domain', 'db'], 'may import only src/domain and src/db: it is the ledger.'),
    only('access', ['domain', 'db', 'runs'], 'may import only src/domain, src/db and src/runs.'),
    only(
      'flow',
      ['domain', 'db', 'runs'],
      'may import only src/domain, src/db and src/runs: admission sits between the ledger and the queue (DESIGN §2, §17).',
    ),
    only(
      'execution',
      ['domain', 'db', 'runs', 'flow'],
      'may import only src/domain, src/db and src/runs: lifecycle work (pruning, reconciling) and ' +
        'the catalog are composed by the process (src/cli, src/runwarden.ts), not by the queue.',
    ),
    only(
      'fleet',
      ['domain', 'db', 'runs', 'flow', 'execution'],
      'may import only src/domain, src/db, src/runs, src/flow and src/execution: a fleet starts and cancels its children through the normal paths (DESIGN §19).',
    ),
    only(
      'insights',
      ['domain', 'db'],
      'may import only src/domain and src/db: rollups are written by the database as runs end and read by charts, never through the ledger (DESIGN §18).',
    ),
    only(
      'alerts',
      ['domain', 'db', 'runs', 'insights'],
      'may import only src/domain, src/db, src/runs and src/insights: rules read what runs and rollups say, and reach the queue through SQL (DESIGN §18).',
    ),
    only(
      'lifecycle',
      ['domain', 'db', 'runs', 'flow', 'execution'],
      'may import only src/domain, src/db, src/runs, src/flow and src/execution.',
    ),
    {
      name: 'http-not-to-cli-web-catalog',
      comment: 'src/http sits at the edge but may not import src/cli, src/web or the demo catalog.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/(cli|web|catalog)/' },
    },
    {
      name: 'cli-not-to-web',
      comment: 'src/cli may import anything of ours but the web app (src/web).',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'catalog-uses-the-library',
      comment:
        'The demo catalog is written like a platform would write one: it may import only the ' +
        'public library (src/index.ts), src/execution and src/domain.',
      severity: 'error',
      from: { path: '^src/catalog/' },
      to: { path: ours, pathNot: ['^src/(catalog|execution|domain)/', '^src/index[.]ts$'] },
    },
    {
      name: 'web-imports-only-the-api-shapes',
      comment:
        'The web app (its own tsconfig, bundled by Vite) may import only its own files, the API ' +
        'response shapes in src/http/schemas.ts, and types from src/domain.',
      severity: 'error',
      from: { path: '^src/web/' },
      to: { path: ours, pathNot: ['^src/web/', '^src/http/schemas[.]ts$', '^src/domain/'] },
    },
    {
      name: 'web-takes-only-types-from-domain',
      comment:
        'The web app takes only types from src/domain (`import type` / `export type`), and the ' +
        'one redirect-target check the server applies too (pure, imports nothing): every ' +
        'redirect target goes through that one function (DESIGN §10).',
      severity: 'error',
      from: { path: '^src/web/' },
      to: {
        path: '^src/domain/',
        pathNot: '^src/domain/redirect-target[.]ts$',
        dependencyTypesNot: ['type-only', 'type-import'],
      },
    },
    {
      name: 'fastify-mounts-the-app',
      comment:
        'src/fastify is the plugin a host mounts (runwarden/fastify): it composes the HTTP app ' +
        '(src/http) with the library (src/runwarden.ts) and the directory (src/access); it may not ' +
        'import src/cli, src/web or the demo catalog.',
      severity: 'error',
      from: { path: '^src/fastify/' },
      to: {
        path: ours,
        pathNot: ['^src/(fastify|http|access|db|domain)/', libraryRoot, kernel],
      },
    },
    {
      name: 'nothing-imports-the-fastify-plugin',
      comment: 'src/fastify sits at the outermost edge: only the package export names it.',
      severity: 'error',
      from: { path: ours, pathNot: '^src/fastify/' },
      to: { path: '^src/fastify/' },
    },
    {
      name: 'kernel-imports-nothing-of-ours',
      comment:
        'config.ts and logger.ts are imported from every room, so they import nothing of ours.',
      severity: 'error',
      from: { path: kernel },
      to: { path: ours },
    },
    {
      name: 'library-root-not-to-the-edge',
      comment:
        'src/index.ts and src/runwarden.ts (the public library) may not import src/http, src/cli, ' +
        'src/web or the demo catalog.',
      severity: 'error',
      from: { path: libraryRoot },
      to: { path: '^src/(http|cli|web|catalog)/' },
    },
    {
      name: 'no-circular',
      comment:
        'Circular import: rooms (and files) depend one way. Move what both sides need inward, or ' +
        'pass it in.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'This import resolves to no file, so the rules above cannot check it.',
      severity: 'error',
      from: { path: ours },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` counts: a type import between rooms is still a dependency between them.
    tsPreCompilationDeps: true,
    // Our `.js` specifiers name `.ts` files (NodeNext); the web app's have no extension (Vite).
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.d.ts'],
    },
  },
};
