/** The CLI's input and output, and its argument parser: shared by every command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './args';

export interface CliIo {
  stdout: { write: (s: string) => unknown; isTTY?: boolean };
  stderr: { write: (s: string) => unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** What is piped in (a secret for `clouds save --secret-stdin`). */
  stdin?: AsyncIterable<Buffer | string>;
  /** Resolves when the user interrupts (Ctrl-C): long commands stop cleanly. */
  interrupted?: Promise<void>;
}

export function out(io: CliIo, s: string): void {
  io.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}

/** The options every command takes. */
const COMMON = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } } as const;

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What `parse` gives for these options: each value typed by its declaration (string, boolean, string[]). */
export type Parsed<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof COMMON; allowPositionals: true; strict: true }>
>;

export function parse<const O extends OptionsConfig>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options: { ...options, ...COMMON }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      (e as Error).message.replace(/^TypeError \[ERR_PARSE_ARGS_[A-Z_]+\]: /, ''),
      'Add --help to the command to see its options.',
    );
  }
}
