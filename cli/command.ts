/**
 * The shape every `mlops` command shares: arguments parsed with node:util parseArgs, `--help` on
 * stdout (exit 0), usage errors naming the argument on stderr (exit 2), failures as
 * `CODE: message` on stderr (exit 1), success 0.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { isDomainError } from '../shared/domain/errors';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What a command's body gets: its option values and named positionals. */
export interface CommandArgs<O extends OptionsConfig> {
  values: ParsedValues<O>;
  positionals: string[];
}

type ParsedValues<O extends OptionsConfig> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? string[]
      : string;
};

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

/** A bad command line: the message names the argument. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CommandSpec<O extends OptionsConfig> {
  name: string;
  summary: string;
  /** The full help text (printed for --help and after a usage error). */
  usage: string;
  options: O;
  /** Names of the positional arguments, in order (`<spec.json>`); an optional one ends with `?`. */
  positionals: string[];
  run(args: CommandArgs<O>, log: (line: string) => void): Promise<number>;
}

export function defineCommand<O extends OptionsConfig>(
  spec: CommandSpec<O>,
): Command & { spec: CommandSpec<O> } {
  return {
    spec,
    summary: spec.summary,
    async run(args: string[]): Promise<number> {
      let parsed: CommandArgs<O>;
      try {
        if (args.includes('--help') || args.includes('-h')) {
          process.stdout.write(`${spec.usage}\n`);
          return EXIT.ok;
        }
        parsed = parseCommandLine(spec, args);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        process.stderr.write(`mlops ${spec.name}: ${e.message}\n\n${spec.usage}\n`);
        return EXIT.usage;
      }
      try {
        return await spec.run(parsed, (line) => process.stdout.write(`${line}\n`));
      } catch (e) {
        if (e instanceof UsageError) {
          process.stderr.write(`mlops ${spec.name}: ${e.message}\n\n${spec.usage}\n`);
          return EXIT.usage;
        }
        process.stderr.write(
          `mlops ${spec.name}: ${isDomainError(e) ? `${e.code}: ${e.message}` : (e as Error).message}\n`,
        );
        return EXIT.failed;
      }
    },
  };
}

/**
 * The usage message for an option that takes one value and is given again, or undefined the first
 * time (`seen` remembers). parseArgs, and a loop by hand, keep the last value silently: `--out a
 * --out b` wrote b alone, whichever of the two the user meant.
 */
export function repeatedOption(seen: Set<string>, option: string): string | undefined {
  if (seen.has(option)) return `${option} is given twice: it takes one value`;
  seen.add(option);
  return undefined;
}

/**
 * parseArgs with its errors turned into UsageErrors, an option that takes one value refused when
 * given twice (a `multiple` one adds to its list, a flag given twice is still on), and the
 * positionals counted against their names.
 */
export function parseCommandLine<O extends OptionsConfig>(
  spec: Pick<CommandSpec<O>, 'options' | 'positionals'>,
  args: string[],
): CommandArgs<O> {
  let parsed: { values: Record<string, unknown>; positionals: string[]; tokens: { kind: string; name?: string }[] };
  try {
    parsed = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    const option = token.kind === 'option' ? spec.options[token.name!] : undefined;
    if (option?.type !== 'string' || option.multiple === true) continue;
    const repeated = repeatedOption(seen, `--${token.name!}`);
    if (repeated !== undefined) throw new UsageError(repeated);
  }
  const required = spec.positionals.filter((p) => !p.endsWith('?'));
  if (parsed.positionals.length < required.length)
    throw new UsageError(`missing ${required.slice(parsed.positionals.length).join(' ')}`);
  if (parsed.positionals.length > spec.positionals.length)
    throw new UsageError(`unexpected argument '${parsed.positionals[spec.positionals.length]}'`);
  return { values: parsed.values as ParsedValues<O>, positionals: parsed.positionals };
}

/**
 * For the commands that read their arguments by hand (score, drift), what node:util parseArgs
 * gives the others: whether `--help` / `-h` is asked for, and the arguments with `--name=value`
 * split in two and everything after `--` kept as positionals (`paths`).
 */
export function plainArgs(args: readonly string[]): { help: boolean; options: string[]; paths: string[] } {
  const end = args.indexOf('--');
  const before = end < 0 ? args : args.slice(0, end);
  const options = before.flatMap((a) => {
    const inline = /^(--[^=]+)=(.*)$/s.exec(a);
    return inline ? [inline[1]!, inline[2]!] : [a];
  });
  return {
    help: before.includes('--help') || before.includes('-h'),
    options,
    paths: end < 0 ? [] : args.slice(end + 1),
  };
}
