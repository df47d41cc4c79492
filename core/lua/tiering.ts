// When V8 optimises the Lua VM's wasm with TurboFan. V8's budget counts the bytes of code a
// function executes, and at each loop back edge it charges the whole loop body: ~22 KB for the
// Lua interpreter's main loop. With V8's default (1.8M on Node 20, 13M on Node 26) the
// interpreter therefore tiers up after about 80-600 Lua instructions, that is during every boot,
// and each process spent 100-500 ms of background CPU compiling it even when it then ran a few
// thousand instructions (a CLI command, a build's smoke test, a binary's first answer). With
// this budget the interpreter tiers up after about 4,500 instructions: boot stays on Liftoff,
// and a server or script doing real work is optimised within its first milliseconds.
import v8 from 'node:v8';

export const WASM_TIERING_BUDGET = 100_000_000;

let applied = false;

/** Sets the budget once per process, before the first wasm module is compiled; a
 *  `--wasm-tiering-budget` given to node itself wins. */
export function applyWasmTiering(): void {
  if (applied) return;
  applied = true;
  if (process.execArgv.some((arg) => arg.startsWith('--wasm-tiering-budget') || arg.startsWith('--wasm_tiering_budget'))) return;
  v8.setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
}
