// `redox test [paths...]`: discovers test files, runs each in a fresh VM with the features
// `serve` would use, and reports (spec, tap or junit). Exit code 1 when a test fails.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { RedoxError } from '../core/errors';
import { defaultAppTarget } from '../core/tooling/project';
import { createLogger } from '../core/runtime/log';
import { AppSource } from '../core/runtime/app-source';
import { discoverTests } from '../core/tooling/testing/discover';
import { createReporter, ReporterName, REPORTERS, specReporter, teeReporter } from '../core/tooling/testing/reporters';
import type * as RunTests from '../core/tooling/testing/run-tests';
import { selectionOptions, selectionValues } from './options';
import { RuntimeEntry } from './runtime-commands';

/** The app under test: --app, else redox.json's "app", else app.ts or app.lua here. */
const appTarget = (flag: string | undefined, cwd: string) => flag ?? defaultAppTarget(cwd);

export function addTestCommands(program: Command, entry: RuntimeEntry): void {
  const test = program.command('test')
    .description('run the tests of a service: *_test.lua, *.test.lua and *.test.ts files (and every .lua/.ts file in test/), each in a fresh VM with an in-process HTTP client for the app')
    .argument('[paths...]', 'test files or folders to search [default: the current folder]')
    .option('--app <target>', 'the app the in-process client (t.get, t.post, ...) talks to [default: "app" in redox.json, else app.ts or app.lua here]')
    .option('--no-app', 'load no app (pure unit tests)')
    .option('--filter <text>', 'run only the tests whose full name ("describe > test") contains this text')
    .addOption(new Option('--reporter <name>', 'output format: spec (one line per test), tap (TAP 13) or junit (JUnit XML)').choices([...REPORTERS]).default('spec'))
    .option('-o, --output <file>', 'write the --reporter report to this file (the console still gets one line per test)')
    .addHelpText('after', `
In a test file:
  test(name, fn) / it(name, fn)     declare a test; describe(name, fn) groups; before_each(fn), after_each(fn)
  t.get(path, opts) (post, put, patch, delete, head, options, request)
                                    one in-process request; opts: headers=, json=, body=, query=
                                    res.status, res.headers, res.body, res:json(), res.error
  t.eq(a, b)  t.neq(a, b)  t.ok(v)  t.match(s, pattern)  t.raises(fn, pattern)  t.status(res, 200)
                                    assertions; a failure shows a diff and the test file's line
  t.skip(name, fn)  t.fail(msg)     skip a test; fail now

Exit code: 0 all passed, 1 a test failed (or --filter matched nothing), 2 usage error.
Example: redox test --reporter junit --output test-results.xml`);
  selectionOptions(test, 'redox.json\'s, else every feature').action(async (paths: string[], opts: Record<string, any>) => {
      const cwd = process.cwd();
      const files = discoverTests(paths, cwd);
      if (files.length === 0) {
        throw new RedoxError('REDOX_TEST_NOT_FOUND', `no test files under ${paths.length ? paths.join(', ') : 'the current folder'}`,
          'name test files *_test.lua, *.test.lua or *.test.ts, or put them in a test/ folder');
      }
      const profile = entry.profile(selectionValues(opts));
      const target = opts.app === false ? undefined : appTarget(opts.app, cwd);
      // Resolved once (TypeScript compiled once); every test file's VM loads it afresh.
      const app: AppSource | undefined = target ? entry.app(target) : undefined;
      let text = '';
      const toStdout = (t: string) => { process.stdout.write(t); };
      // With --output the report goes to the file and the console still shows the spec lines.
      const reporter = opts.output
        ? teeReporter(createReporter(opts.reporter as ReporterName, (t) => { text += t; }), specReporter(toStdout))
        : createReporter(opts.reporter as ReporterName, toStdout);
      // App logs go to standard error, warnings and up unless REDOX_LOG_LEVEL says otherwise.
      const log = createLogger({ level: process.env.REDOX_LOG_LEVEL ?? 'warn', write: (t) => process.stderr.write(t) });
      // Required here: every other command starts without loading the test runner.
      const { runTests } = require('../core/tooling/testing/run-tests') as typeof RunTests;
      const totals = await runTests({
        profile, files, load: (file) => entry.app(file), app: app && (() => app), appName: target, filter: opts.filter, reporter, log, cwd,
      });
      if (opts.output) fs.writeFileSync(opts.output, text);
      if (totals.passed + totals.failed === 0 && opts.filter !== undefined) {
        process.stderr.write(`no test matched --filter ${JSON.stringify(opts.filter)}\n`);
        entry.setExitCode(1);
        return;
      }
      entry.setExitCode(totals.failed > 0 ? 1 : 0);
    });
}
