#!/usr/bin/env node
/**
 * `mlops <command> ...`: offline tools for data scientists, running the same code as the backend.
 * Each command lives in its own module and registers here.
 */
interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  // Loaded on demand (require: this CommonJS build keeps import() as a real ESM import).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  drift: () => Promise.resolve(require('./drift') as typeof import('./drift')),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  score: () => Promise.resolve((require('./score') as typeof import('./score')).scoreCommand),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lake: () => Promise.resolve((require('./lake') as typeof import('./lake')).lakeCommand),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  fit: () => Promise.resolve((require('./fit') as typeof import('./fit')).fitCommand),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  transform: () => Promise.resolve((require('./transform') as typeof import('./transform')).transformCommand),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  package: () => Promise.resolve((require('./package') as typeof import('./package')).packageCommand),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  check: () => Promise.resolve((require('./check') as typeof import('./check')).checkCommand),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    console.error('usage: mlops <command> [args]\n\ncommands:');
    for (const [n, l] of Object.entries(commands)) console.error(`  ${n.padEnd(10)} ${(await l()).summary}`);
    return name ? 2 : 0;
  }
  return (await load()).run(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
