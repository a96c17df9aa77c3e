#!/usr/bin/env node
/**
 * `mlops <command> ...`: offline tools for data scientists, running the same code as the backend.
 * Each command lives in its own module and registers here.
 */
import * as drift from './drift';

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  drift: async () => drift,
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
