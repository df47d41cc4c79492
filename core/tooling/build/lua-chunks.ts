// The binary's precompiled Lua (core/lua/chunks.ts): a VM booted here with the binary's built-in
// features, budgets on, records the bytecode of every core and feature chunk it compiles, so
// the binary boots without parsing them. A local feature's chunk is not recorded (its module
// would have to be compiled here); the binary parses it at boot, as before.
import fs from 'node:fs';
import path from 'node:path';
import { ChunkStore } from '../../lua/chunks';
import { Engine } from '../../runtime/engine';
import { featureContext } from '../../runtime/launch';
import { createLogger } from '../../runtime/log';
import { EmbeddedModules } from '../../runtime/modules';
import { luaWasmPath, luaWasmSha256 } from '../catalogue/packages';
import { devProfile } from '../dev/profile';
import type { Plan, Target } from './plan';

export interface RecordedChunks {
  file: string;
  chunks: number;
}

export async function recordLuaChunks(plan: Plan, target: Target, work: string): Promise<RecordedChunks> {
  const wasmPath = luaWasmPath();
  const store = new ChunkStore(luaWasmSha256(), { record: true });
  const builtin = target.features.filter((name) => !plan.locals.some((l) => l.name === name));
  const profile = devProfile(plan.catalogue, { distro: target.distro, features: builtin }, plan.redoxVersion);
  const engine = await Engine.create({
    wasmPath,
    chunks: store,
    features: profile.features,
    catalogue: profile.catalogue,
    modules: new EmbeddedModules({}),
    // Features start as with no settings: what the builder's shell has set is not the binary's.
    context: { ...featureContext(profile, work), env: () => undefined, settingOf: () => undefined },
    log: createLogger({ level: 'silent', batch: false, write: () => {} }),
    version: plan.redoxVersion,
    budgets: { cpuMs: 1000, memoryBytes: 64 * 1024 * 1024 },
  });
  await engine.close();
  const file = path.join(work, 'lua-chunks.json');
  fs.writeFileSync(file, store.encode());
  return { file, chunks: store.size };
}
