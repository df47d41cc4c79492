// Shared commander setup: usage errors exit 2 with a clear message, and only the entry point
// turns results into process exit codes.
import { Command, CommanderError } from 'commander';
import { reportError } from './report';

export function newProgram(name: string, description: string, version: string): Command {
  return new Command(name)
    .description(description)
    .version(version, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
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
      // help and version "errors" are successful exits
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err);
  }
}
