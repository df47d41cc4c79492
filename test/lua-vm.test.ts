// Lua VMs in one process: each has its own wasm instance, however they were started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LuaVM } from '../core/lua/vm';
import { luaWasmPath } from '../core/tooling/catalogue/packages';

test('VMs started at the same time are independent (a multi-distro build boots several at once)', async () => {
  const vms = await Promise.all([1, 2, 3].map(() => LuaVM.create(luaWasmPath())));
  try {
    for (const [i, vm] of vms.entries()) {
      // pcall and error go through the setjmp trampoline, the table through the allocator.
      const ref = vm.compile(Buffer.from(`local ok, e = pcall(error, "vm ${i}", 0) local t = {} for k = 1, 1000 do t[k] = tostring(k) end return e .. ":" .. #t .. ":" .. t[1000]`), '=t');
      const out = await vm.drive((T) => { vm.pushRef(T, ref); return 1; }, (T, n) => vm.result(T, n, 1));
      assert.equal(out, `vm ${i}:1000:1000`);
    }
  } finally {
    for (const vm of vms) vm.close();
  }
});
