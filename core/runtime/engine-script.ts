// `redox run`: a script run to completion in the engine's VM, with `arg` set.
import { T_NUMBER } from '../lua/api';
import { LuaValue } from '../lua/marshal';
import { LuaVM } from '../lua/vm';

/** Runs a script to completion: `arg` holds the arguments. Returns what the script returned. */
export async function runScriptIn(vm: LuaVM, main: { source: Buffer; chunkName: string }, args: string[], onlyNumber = false): Promise<LuaValue> {
  const { api } = vm;
  api.raw._lua_createtable(vm.L, args.length, 1);
  [main.chunkName, ...args].forEach((a, i) => {
    api.pushString(vm.L, a);
    api.raw._lua_rawseti(vm.L, -2, BigInt(i));
  });
  api.setGlobal(vm.L, 'arg');
  const ref = vm.compile(main.source, '@' + main.chunkName);
  try {
    return await vm.drive((T) => {
      vm.pushRef(T, ref);
      for (const a of args) api.pushString(T, a);
      return 1 + args.length;
    }, (T, nres) => {
      if (nres === 0) return undefined;
      // An exit code can only be a number: a module table (functions and all) is ignored.
      if (onlyNumber && api.raw._lua_type(T, -nres) !== T_NUMBER) return undefined;
      return vm.result(T, nres, 1);
    });
  } finally {
    vm.unref(ref);
  }
}
