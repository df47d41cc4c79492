// Lua's own count of its heap bytes, read straight from global_State (totalbytes + GCdebt). The
// address is found at boot by calibration, since wasmoon does not export it.
import { LuaApi, LuaState } from './api';

export class HeapCounter {
  /** Address of global_State's totalbytes (GCdebt follows); 0 if unknown. */
  address = 0;

  constructor(private readonly api: LuaApi, private readonly L: LuaState) {}

  get known(): boolean {
    return this.address !== 0;
  }

  bytes(): number {
    const heap = this.api.raw.HEAP32;
    return heap[this.address >> 2] + heap[(this.address >> 2) + 1];
  }

  /** Finds the counter by matching candidates against collectgarbage("count") at two heap
   *  sizes. `count(grow)` runs Lua that grows (or shrinks) the heap and returns the count in KiB.
   *  Returns false (memory limit unavailable) if none matches. */
  async calibrate(count: (grow: boolean) => Promise<number>): Promise<boolean> {
    const { raw } = this.api;
    const heap32 = () => raw.HEAP32;
    const lBase = this.L >> 2;
    const candidates: number[] = [];
    const small = (await count(false)) * 1024;
    for (let i = 0; i < 16; i++) {
      const g = heap32()[lBase + i];
      if (g <= 0 || g % 4 !== 0 || g >= raw.HEAPU8.length - 64) continue;
      for (let off = 0; off < 48; off += 4) {
        const at = g + off;
        if (Math.abs(heap32()[at >> 2] + heap32()[(at >> 2) + 1] - small) < 1024) candidates.push(at);
      }
    }
    const large = (await count(true)) * 1024;
    const match = candidates.find((at) => Math.abs(heap32()[at >> 2] + heap32()[(at >> 2) + 1] - large) < 1024);
    await count(false);
    this.address = match ?? 0;
    return this.known;
  }
}
