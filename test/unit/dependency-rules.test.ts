import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '../..');
const depcruise = path.join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** Packages of the fixture: what package.json declares, and one only installed as a dependency of another. */
const DEPENDENCIES = ['zod', '@azure/cosmos', '@azure/functions', 'durable-functions'];
const DEV_DEPENDENCIES = ['rhea'];
const UNDECLARED = ['transitive-only'];

/** A small repository: one module per allowed kind of import, none of them reported... */
const ALLOWED: Record<string, string> = {
  'shared/domain/constants.ts': `export const LIMIT = 1;`,
  'shared/domain/ok.ts': `import { createHash } from 'node:crypto';\nimport { z } from 'zod';\nimport type { Shape } from '../schemas/ok';\nexport const f = (s: Shape) => [createHash, z, s];`,
  'shared/schemas/ok.ts': `import { z } from 'zod';\nimport { LIMIT } from '../domain/constants';\nexport type Shape = { n: number };\nexport const shape = [z, LIMIT];`,
  'shared/ports/store.ts': `import type { Readable } from 'node:stream';\nimport type { Shape } from '../schemas/ok';\nexport interface Store { read(): Promise<Readable>; shape: Shape }`,
  'shared/usecases/run.ts': `import type { Store } from '../ports/store';\nimport { LIMIT } from '../domain/constants';\nexport const run = (s: Store) => [s, LIMIT];`,
  'shared/adapters/cosmos.ts': `import fs from 'node:fs';\nimport { CosmosClient } from '@azure/cosmos';\nimport { config } from '../config';\nimport type { Store } from '../ports/store';\nexport const adapter = [fs, CosmosClient, config] as unknown as Store;`,
  'shared/composition.ts': `import { adapter } from './adapters/cosmos';\nimport { run } from './usecases/run';\nexport const wired = () => run(adapter);`,
  'orchestrations/names.ts': `import * as df from 'durable-functions';\nimport { wired } from '../shared/composition';\nexport const NAME = [df, wired];`,
  'functions/http/ok.ts': `import { app } from '@azure/functions';\nimport { z } from 'zod';\nimport { wired } from '../../shared/composition';\nimport { NAME } from '../../orchestrations/names';\nexport const ok = [app, z, wired, NAME];`,
  'cli/ok.ts': `import fs from 'node:fs';\nimport { z } from 'zod';\nimport { adapter } from '../shared/adapters/cosmos';\nexport const ok = [fs, z, adapter];`,
  'devhost/host.ts': `import http from 'node:http';\nimport rhea from 'rhea';\nimport { config } from '../shared/config';\nimport type { Shape } from '../shared/schemas/ok';\nexport const host = (s: Shape) => [http, rhea, config, s];`,
};

/** ...and one per forbidden kind, each reported under the rule `FORBIDDEN` names. */
const BREAKING: Record<string, string> = {
  'shared/config.ts': `import { z } from 'zod';\nimport { LIMIT } from './domain/constants';\nimport type { Store } from './ports/store';\nexport const config = [z, LIMIT] as unknown as Store;`,
  'shared/domain/uses-adapter.ts': `import { adapter } from '../adapters/cosmos';\nexport const x = adapter;`,
  'shared/domain/uses-fs.ts': `import fs from 'node:fs';\nexport const x = fs;`,
  'shared/domain/cycle-a.ts': `import { b } from './cycle-b';\nexport const a = () => b;`,
  'shared/domain/cycle-b.ts': `import { a } from './cycle-a';\nexport const b = () => a;`,
  'shared/schemas/uses-ports.ts': `import type { Store } from '../ports/store';\nexport type X = Store;`,
  'shared/ports/loads-stream.ts': `import { Readable } from 'node:stream';\nexport const x = Readable;`,
  'shared/ports/uses-usecase.ts': `import { run } from '../usecases/run';\nexport const x = run;`,
  'shared/usecases/uses-adapter.ts': `import { adapter } from '../adapters/cosmos';\nexport const x = adapter;`,
  'shared/usecases/uses-config.ts': `import { config } from '../config';\nexport const x = config;`,
  'shared/usecases/uses-zod.ts': `import { z } from 'zod';\nexport const x = z;`,
  'shared/usecases/uses-fs.ts': `import { readFileSync } from 'node:fs';\nexport const x = readFileSync;`,
  'shared/usecases/typo.ts': `import { y } from './missing';\nexport const x = y;`,
  'shared/adapters/uses-function.ts': `import { ok } from '../../functions/http/ok';\nexport const x = ok;`,
  'shared/adapters/uses-dev-dependency.ts': `import rhea from 'rhea';\nexport const x = rhea;`,
  'shared/adapters/uses-undeclared.ts': `import t from 'transitive-only';\nexport const x = t;`,
  'shared/wiring.ts': `import { host } from '../devhost/host';\nexport const x = host;`,
  'shared/misc/helper.ts': `import { LIMIT } from '../domain/constants';\nexport const x = LIMIT;`,
  'functions/http/uses-cosmos.ts': `import { CosmosClient } from '@azure/cosmos';\nexport const x = CosmosClient;`,
  'functions/http/uses-fs.ts': `import fs from 'node:fs';\nexport const x = fs;`,
  'orchestrations/uses-devhost.ts': `import { host } from '../devhost/host';\nexport const x = host;`,
  'cli/uses-functions.ts': `import { ok } from '../functions/http/ok';\nexport const x = ok;`,
  'devhost/uses-usecase.ts': `import { run } from '../shared/usecases/run';\nexport const x = run;`,
  'devhost/uses-adapter.ts': `import { adapter } from '../shared/adapters/cosmos';\nexport const x = adapter;`,
};

/** Every violation expected in the fixture, as "from -> to: rule". */
const FORBIDDEN = [
  'shared/domain/uses-adapter.ts -> shared/adapters/cosmos.ts: domain-may-import-only',
  'shared/domain/uses-fs.ts -> fs: domain-may-import-only',
  // A cycle is reported once, at the edge where dependency-cruiser enters it.
  'shared/domain/cycle-a.ts -> shared/domain/cycle-b.ts: no-circular',
  'shared/schemas/uses-ports.ts -> shared/ports/store.ts: schemas-may-import-only',
  'shared/ports/loads-stream.ts -> stream: ports-import-node-types-only',
  'shared/ports/uses-usecase.ts -> shared/usecases/run.ts: ports-may-import-only',
  'shared/usecases/uses-adapter.ts -> shared/adapters/cosmos.ts: usecases-may-import-only',
  'shared/usecases/uses-config.ts -> shared/config.ts: usecases-may-import-only',
  'shared/config.ts -> shared/ports/store.ts: config-may-import-only',
  'shared/usecases/uses-zod.ts -> node_modules/zod/index.js: usecases-may-import-only',
  'shared/usecases/uses-fs.ts -> fs: usecases-may-import-only',
  'shared/usecases/typo.ts -> ./missing: imports-resolve',
  'shared/usecases/typo.ts -> ./missing: usecases-may-import-only',
  'shared/adapters/uses-function.ts -> functions/http/ok.ts: adapters-may-import-only',
  'shared/adapters/uses-dev-dependency.ts -> node_modules/rhea/index.js: product-uses-production-packages',
  'shared/adapters/uses-undeclared.ts -> node_modules/transitive-only/index.js: packages-are-declared',
  'shared/wiring.ts -> devhost/host.ts: composition-root-may-import-only',
  'shared/wiring.ts -> devhost/host.ts: product-does-not-import-tooling',
  'shared/misc/helper.ts -> shared/domain/constants.ts: file-outside-layers',
  'functions/http/uses-cosmos.ts -> node_modules/@azure/cosmos/index.js: triggers-may-import-only',
  'functions/http/uses-fs.ts -> fs: triggers-may-import-only',
  'orchestrations/uses-devhost.ts -> devhost/host.ts: triggers-may-import-only',
  'orchestrations/uses-devhost.ts -> devhost/host.ts: product-does-not-import-tooling',
  'cli/uses-functions.ts -> functions/http/ok.ts: cli-may-import-only',
  'devhost/uses-usecase.ts -> shared/usecases/run.ts: devhost-may-import-only',
  'devhost/uses-adapter.ts -> shared/adapters/cosmos.ts: devhost-may-import-only',
];

function writeFixture(dir: string): void {
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  for (const [file, text] of Object.entries({ ...ALLOWED, ...BREAKING })) write(file, text);
  const versions = (names: string[]) => Object.fromEntries(names.map((n) => [n, '1.0.0']));
  write(
    'package.json',
    JSON.stringify({
      name: 'fixture',
      dependencies: versions(DEPENDENCIES),
      devDependencies: versions(DEV_DEPENDENCIES),
    }),
  );
  write(
    'tsconfig.json',
    JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true } }),
  );
  for (const name of [...DEPENDENCIES, ...DEV_DEPENDENCIES, ...UNDECLARED]) {
    write(`node_modules/${name}/package.json`, JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
    write(`node_modules/${name}/index.js`, 'module.exports = {};');
  }
}

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs the repository's rules (.dependency-cruiser.cjs) over the fixture, as `npm run lint` does. */
function cruise(dir: string): Violation[] {
  const args = [depcruise, '--config', path.join(repo, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  let output: string;
  try {
    output = execFileSync(
      process.execPath,
      [...args, 'functions', 'orchestrations', 'shared', 'devhost', 'cli'],
      {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (error) {
    // It exits with the number of errors found; the report is on stdout all the same.
    const stdout = (error as { stdout?: string }).stdout;
    if (!stdout) throw error;
    output = stdout;
  }
  return (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  let dir: string;
  let violations: string[];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depcruise-fixture-'));
    writeFixture(dir);
    violations = cruise(dir).map((v) => `${v.from} -> ${v.to}: ${v.rule.name}`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a layer imports only what its allow-list names, then nothing is reported', () => {
    const fromAllowedModules = violations.filter((v) =>
      Object.keys(ALLOWED).some((f) => v.startsWith(`${f} `)),
    );
    expect(fromAllowedModules).toEqual([]);
  });

  it.each(FORBIDDEN)('when the fixture has %s, then it is reported', (violation) => {
    expect(violations).toContain(violation);
  });

  it('when the fixture is cruised, then nothing but the expected violations is reported', () => {
    expect([...violations].sort()).toEqual([...FORBIDDEN].sort());
  });
});
