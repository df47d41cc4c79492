// The test library as a module for one test file's VM, installed through the feature contract:
// `t` (require("t")) plus the globals test, describe, it, before_each and after_each.
import { async, defineFeature, FeatureDefinition, LuaMulti, sync } from '../feature';
import { InProcessRequest, InProcessResponse } from './engine-adapter';
import { TESTLIB_LUA } from './testlib.lua';

export type TestStatus = 'pass' | 'fail' | 'skip';

export interface TestReport {
  name: string;
  status: TestStatus;
  /** For a failure: what went wrong (an assertion's diff, or the error raised). */
  message?: string;
  /** For a failure: "at file:line" of the assertion, or the traceback of an error. */
  detail?: string;
  ms: number;
}

export interface TestModuleHooks {
  dispatch(req: InProcessRequest): Promise<InProcessResponse>;
  report(r: TestReport): void;
}

const text = (b: Buffer | string | undefined) => (b === undefined ? '' : b.toString());

export function testModule(hooks: TestModuleHooks): FeatureDefinition {
  const alias = (field: string) => `local t = ... return t.${field}`;
  return defineFeature({
    name: 't',
    description: 'redox test: test declarations, assertions and the in-process HTTP client',
    install: () => ({
      lua: TESTLIB_LUA,
      extraModules: { test: alias('test'), describe: alias('describe'), it: alias('test'), before_each: alias('before_each'), after_each: alias('after_each') },
      functions: {
        dispatch: async(async (method: Buffer, path: Buffer, query: Buffer, headers: Buffer, body: Buffer | undefined, id: Buffer) => {
          const res = await hooks.dispatch({ method: text(method), path: text(path), query: text(query), headers: text(headers), body, id: text(id) });
          return new LuaMulti([res.status, res.body ?? Buffer.alloc(0), res.headers, res.error]);
        }, { bytes: true, name: 't.request' }),
        report: sync((name: string, status: TestStatus, message?: string, detail?: string, ms?: number) => {
          hooks.report({ name, status, message, detail, ms: Math.round((ms ?? 0) * 10) / 10 });
        }),
        now: sync(() => performance.now()),
      },
    }),
  });
}
