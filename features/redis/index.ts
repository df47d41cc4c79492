// redis: Redis through ioredis. Commands read as blocking in Lua, but each one only suspends
// its own request's coroutine; all requests of a VM share one connection, on which Redis
// pipelines their commands. The Lua side (redis.lua.ts) gives the command methods.
import { async, defineFeature, LuaArgumentError, LuaFailure, LuaMulti, LuaValue, sync } from '../../core/feature';
import { ClientHandle, Clients } from './clients';
import { failure, Where } from './errors';
import { readSettings, setFlags } from './options';
import { REDIS_LUA } from './redis.lua';

type Arg = Buffer | string;

function where(h: ClientHandle, op: string): Where {
  return { op, target: h.settings.target, timeoutSeconds: h.settings.timeoutSeconds, lastError: h.lastError };
}

function args(list: LuaValue[], op: string): Arg[] {
  const out: Arg[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (v instanceof Uint8Array) out[i] = Buffer.isBuffer(v) ? v : Buffer.from(v);
    else if (typeof v === 'number' || typeof v === 'bigint') out[i] = String(v);
    else throw new LuaArgumentError(`${op}: argument ${i + 1} must be a string or a number, got ${v === undefined ? 'nil' : typeof v === 'object' ? 'a table' : typeof v}`);
  }
  return out;
}

/** Commands that would change the connection every request of the VM shares. */
const REFUSED: Record<string, string> = {
  subscribe: 'it turns the shared connection into a subscriber; subscribing is not supported by this feature',
  psubscribe: 'it turns the shared connection into a subscriber; subscribing is not supported by this feature',
  ssubscribe: 'it turns the shared connection into a subscriber; subscribing is not supported by this feature',
  monitor: 'it turns the shared connection into a monitor',
  select: 'it would switch the database under every other request; connect with {db = n} instead',
  quit: 'use r:close()',
  reset: 'it would reset the connection every request shares',
};

function commandName(v: LuaValue, op: string): string {
  const name = v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v;
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.|-]*$/.test(name)) {
    throw new LuaArgumentError(`${op}: the command name must be a string like "GET", got ${typeof name === 'string' ? `"${name}"` : typeof name}`);
  }
  const lower = name.toLowerCase();
  if (REFUSED[lower]) throw new LuaArgumentError(`${op}: ${name.toUpperCase()} is refused: ${REFUSED[lower]}`);
  return lower;
}

/** A reply for Lua. nil inside an array would leave a hole, so it becomes false there (RESP2
 *  has no booleans) and the second result tells the Lua side to swap in json.null. */
function reply(value: unknown): LuaValue {
  let holes = false;
  const walk = (v: unknown): LuaValue => {
    if (Array.isArray(v)) {
      return v.map((x) => {
        if (x === null || x === undefined) {
          holes = true;
          return false;
        }
        return walk(x);
      });
    }
    if (v === null) return undefined;
    return v as LuaValue;
  };
  const out = walk(value);
  return holes ? new LuaMulti([out, true]) : out;
}

export default defineFeature({
  install(ctx) {
    const clients = new Clients(ctx.log);
    return {
      lua: REDIS_LUA,
      functions: {
        connect: sync((first: LuaValue, second: LuaValue) => {
          const settings = readSettings(first, second);
          return new LuaMulti([clients.open(settings), settings.target]);
        }, { name: 'redis.connect' }),
        close: async((id: unknown) => clients.close(id), { name: 'r:close' }),
        is_open: sync((id: unknown) => clients.isOpen(id)),
        set_flags: sync((opts: LuaValue) => setFlags(opts), { name: 'r:set' }),
        // bytes: keys and values are byte strings; replies come back as bytes too.
        call: async(async (id: unknown, name: LuaValue, ...rest: LuaValue[]) => {
          const h = clients.get(id, 'r:call');
          const cmd = commandName(name, 'r:call');
          const op = `r:${cmd}`;
          const a = args(rest, op);
          try {
            return reply(await h.client.callBuffer(cmd, ...a));
          } catch (err) {
            return failure(err, where(h, op));
          }
        }, { bytes: true, name: 'r:call' }),
        // commands: {{name, arg, ...}, ...}. All replies, or nil, err naming the first failed one.
        pipeline: async(async (id: unknown, commands: LuaValue, atomic: LuaValue) => {
          const h = clients.get(id, 'r:pipeline');
          if (!Array.isArray(commands)) return [];
          const p = atomic === true ? h.client.multi() : h.client.pipeline();
          commands.forEach((c, i) => {
            if (!Array.isArray(c) || c.length === 0) throw new LuaArgumentError(`r:pipeline: command ${i + 1} is empty`);
            const cmd = commandName(c[0], 'r:pipeline');
            p.callBuffer(cmd, ...args(c.slice(1), `r:pipeline: ${cmd}`));
          });
          let results: [Error | null, unknown][] | null;
          try {
            results = await p.exec();
          } catch (err) {
            // MULTI/EXEC aborted as a whole (EXECABORT) or the connection failed.
            return failure(err, where(h, 'r:pipeline'));
          }
          if (results === null) return failure(new Error('Connection is closed.'), where(h, 'r:pipeline'));
          const replies: unknown[] = [];
          for (let i = 0; i < results.length; i++) {
            const [err, value] = results[i];
            if (err) {
              const f = failure(err, where(h, `r:pipeline: command ${i + 1}`));
              return new LuaFailure(f.code, `command ${i + 1} of the pipeline: ${f.message}`, { ...f.details, index: i + 1 });
            }
            replies.push(value);
          }
          return reply(replies);
        }, { bytes: true, name: 'r:pipeline' }),
      },
      cleanup: () => clients.closeAll(),
    };
  },
});
