// Shared commander setup: usage errors exit 2 with a clear message, and only the entry point
// turns results into process exit codes.
import { Command, CommanderError } from 'commander';
import { ERRORS } from '../core/errors';
import { reportError } from './report';

export function newProgram(name: string, description: string, version: string): Command {
  return new Command(name)
    .description(description)
    .version(version, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showHelpAfterError('  hint: run with --help for usage')
    .exitOverride()
    .configureOutput({ writeErr: (t) => process.stderr.write(t) });
}

/** Parses argv and runs the command; resolves to the process exit code. */
export async function runProgram(program: Command, argv: string[], exitCode: () => number | undefined): Promise<number> {
  try {
    await program.parseAsync(argv);
    return exitCode() ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are successful exits; help shown for a command that needs a
      // subcommand (`redox deploy`) is a usage error, as are commander's own parse errors.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // commander printed the message and the hint; the code line matches every other error's.
      process.stderr.write(`  (REDOX_USAGE: ${ERRORS.REDOX_USAGE.summary})\n`);
      return 2;
    }
    return reportError(err);
  }
}

/** A reader that went away (`redox build | head -1`) must not turn finished work into a crash
 *  with a stack trace: what is left to print is dropped, and the exit code stays the work's.
 *  (Node ignores SIGPIPE, so a write to a closed pipe is an 'error' event on the stream.) */
export function tolerateClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}
