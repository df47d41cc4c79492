// Addons compiled for another Node than the one that ran npm install (core/tooling/build/addons.ts),
// with a tiny real addon compiled by the real node-gyp: the environment npm gives its scripts
// must not choose the headers, and an addon for another ABI is never used, cached or fresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AddonNeed, addonAbi, addonFor } from '../core/tooling/build/addons';
import { BaseNode } from '../core/tooling/build/node-base';
import { TARGETS } from '../core/tooling/build/targets';
import { tempDir, withEnv } from './support/harness';

// The headers of the Node running the tests, as Linux packages install them (/usr/include/node).
const MACHINE_HEADERS = path.resolve(path.dirname(process.execPath), '..');
const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'addons are compiled for other bases on linux-x64'
  : !fs.existsSync(path.join(MACHINE_HEADERS, 'include', 'node', 'node_version.h')) ? `no Node headers under ${MACHINE_HEADERS}/include/node`
    : false;

/** A package with a context-aware addon, whose entry point names the ABI it was built for. */
function tinyAddonPackage(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'tiny-addon', version: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'binding.gyp'), JSON.stringify({ targets: [{ target_name: 'tiny', sources: ['tiny.cc'] }] }));
  fs.writeFileSync(path.join(dir, 'tiny.cc'), '#include <node.h>\nNODE_MODULE_INIT(/* exports, module, context */) {}\n');
}

test('an addon for another Node ABI is never used: not from the cache, not from a compile against other headers; npm_config_nodedir does not choose the headers', { skip }, async () => {
  const tmp = tempDir('redox-addons-test-'); // removed when this file's process exits
  const packageDir = path.join(tmp, 'tiny-addon');
  tinyAddonPackage(packageDir);
  const need: AddonNeed = { feature: 'tiny', asset: 'tiny.node', spec: { package: 'tiny-addon', path: 'build/Release/tiny.node' }, packageDir };
  const machineAbi = process.versions.modules;
  const otherAbi = String(Number(machineAbi) + 22);
  // A registry base for another ABI whose headers are (wrongly) this machine's: what a compile
  // that took an npmrc's nodedir instead of the base's headers would produce.
  const base = {
    version: 'v99.0.0', abi: otherAbi, source: 'registry', target: TARGETS['linux-x64'], headers: MACHINE_HEADERS, package: null,
  } as unknown as BaseNode;

  // What an earlier compile against the wrong headers left in the cache, with a valid checksum.
  const cache = path.join(tmp, 'cache');
  const entry = path.join(cache, 'addons', 'tiny-addon@1.0.0', `linux-x64-abi${otherAbi}`);
  fs.mkdirSync(entry, { recursive: true });
  const poisoned = path.join(entry, 'tiny.node');
  fs.writeFileSync(poisoned, `\x7fELF...node_register_module_v${machineAbi}...`);
  fs.writeFileSync(poisoned + '.sha256', crypto.createHash('sha256').update(fs.readFileSync(poisoned)).digest('hex') + '\n');
  assert.equal(addonAbi(fs.readFileSync(poisoned)), machineAbi);

  const notes: string[] = [];
  // npm exports its config to what it runs; node-gyp would let this win over its own --nodedir.
  const failed = await withEnv({ REDOX_BUILD_CACHE: cache, npm_config_nodedir: path.join(tmp, 'no-such-headers') },
    () => addonFor(base, need, (m) => notes.push(m)).then(() => null, (err: Error) => err));
  assert.ok(failed, `the poisoned cache entry was used; notes: ${notes.join(' | ')}`);
  assert.equal((failed as { code?: string }).code, 'REDOX_BUILD_ADDON');
  // "ABI <machine's>" proves node-gyp compiled against MACHINE_HEADERS, the base's --nodedir,
  // and not the missing folder npm_config_nodedir named.
  assert.match(failed.message, new RegExp(`for Node ABI ${machineAbi}, not ${otherAbi}`), failed.message);
  assert.ok(notes.some((n) => /for another ABI: building it again/.test(n)), notes.join(' | '));
});
