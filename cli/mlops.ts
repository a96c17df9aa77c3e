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
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const load = name ? commands[name] : undefined;
  if (!load) {
    console.error('usage: mlops <command> [args]\n\ncommands:');
    for (const [n, l] of Object.entries(commands)) console.error(`  ${n.padEnd(8)} ${(await l()).summary}`);
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
