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
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  deadletters: () => Promise.resolve((require('./deadletters') as typeof import('./deadletters')).deadlettersCommand),
};

async function commandList(): Promise<string> {
  const lines = ['usage: mlops <command> [args]   (mlops <command> --help for its usage)', '', 'commands:'];
  for (const [n, l] of Object.entries(commands)) lines.push(`  ${n.padEnd(10)} ${(await l()).summary}`);
  return `${lines.join('\n')}\n`;
}

const HELP = ['--help', '-h', 'help'];

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  // `mlops help <command>` is `mlops <command> --help`.
  const [command, commandArgs] = name === 'help' && args.length > 0 ? [args[0]!, ['--help']] : [name, args];
  if (command === undefined || HELP.includes(command)) {
    process.stdout.write(await commandList());
    return 0;
  }
  // Own names only: `mlops constructor` is not Object's constructor.
  const load = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!load) {
    process.stderr.write(`mlops: unknown command '${command}'\n\n${await commandList()}`);
    return 2;
  }
  return (await load()).run(commandArgs);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
