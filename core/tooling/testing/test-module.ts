// The test library for one test file's VM: `t` (require("t")) plus the globals test, describe,
// it, before_each and after_each, and the host functions behind them. Not a feature: it must
// not show in redox.features or change what the app sees.
import { async, HostFunction, LuaMulti, sync } from '../../feature';
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

/** The test library: a Lua chunk that receives the host functions below as `...` and makes
 *  `t` (require("t")) and the globals test, describe, it, before_each and after_each. */
export const TEST_LIBRARY_LUA = /* lua */ `local t = (function(...)\n${TESTLIB_LUA}\nend)(...)
package.loaded.t = t
rawset(_G, "t", t)
for _, name in ipairs({ "test", "describe", "before_each", "after_each" }) do rawset(_G, name, t[name]) end
rawset(_G, "it", t.test)`;

export function testHostFunctions(hooks: TestModuleHooks): Record<string, HostFunction> {
  return {
    dispatch: async(async (method: Buffer, path: Buffer, query: Buffer, headers: Buffer, body: Buffer | undefined, id: Buffer) => {
      const res = await hooks.dispatch({ method: text(method), path: text(path), query: text(query), headers: text(headers), body, id: text(id) });
      return new LuaMulti([res.status, res.body ?? Buffer.alloc(0), res.headers, res.error]);
    }, { bytes: true, name: 't.request' }),
    report: sync((name: string, status: TestStatus, message?: string, detail?: string, ms?: number) => {
      hooks.report({ name, status, message, detail, ms: Math.round((ms ?? 0) * 10) / 10 });
    }, { name: 't.report' }),
    now: sync(() => performance.now(), { name: 't.now' }),
  };
}
