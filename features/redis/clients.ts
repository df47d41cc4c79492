// The Redis clients of one Lua VM. Lua holds integer ids; connect() with the same settings
// shares one client (one connection: Redis pipelines commands on it).
import type Redis from 'ioredis';
import { Logger, LuaArgumentError } from '../../core/feature';
import type { Settings } from './options';

// ioredis takes about 60 ms to load: required on the first connect, so a process that never
// connects (a CLI listing its options, an app without Redis calls) does not pay for it.
let IoRedis: typeof Redis | undefined;
const ioredis = (): typeof Redis => (IoRedis ??= require('ioredis') as typeof Redis);

export interface ClientHandle {
  readonly id: number;
  readonly client: Redis;
  readonly settings: Settings;
  lastError?: { code?: string; message: string };
}

export class Clients {
  private readonly byId = new Map<number, ClientHandle>();
  private readonly byKey = new Map<string, ClientHandle>();
  private nextId = 1;

  constructor(private readonly log: Logger) {}

  open(settings: Settings): number {
    const known = this.byKey.get(settings.key);
    if (known) return known.id;
    const RedisClient = ioredis();
    const client = settings.url ? new RedisClient(settings.url, settings.options) : new RedisClient(settings.options);
    const h: ClientHandle = { id: this.nextId++, client, settings };
    // Without an 'error' listener ioredis prints every failed reconnect. Log each outage once.
    client.on('error', (err: Error & { code?: string }) => {
      if (h.lastError?.message !== err.message) this.log.warn('redis: connection failed', { target: settings.target, err: err.message });
      h.lastError = { code: err.code, message: err.message };
    });
    client.on('ready', () => {
      if (h.lastError) this.log.info('redis: connected again', { target: settings.target });
      h.lastError = undefined;
    });
    this.byId.set(h.id, h);
    this.byKey.set(settings.key, h);
    return h.id;
  }

  isOpen(id: unknown): boolean {
    return typeof id === 'number' && this.byId.has(id);
  }

  get(id: unknown, op: string): ClientHandle {
    const h = typeof id === 'number' ? this.byId.get(id) : undefined;
    if (h) return h;
    if (typeof id !== 'number') throw new LuaArgumentError(`${op}: call it on a client with a colon, e.g. r:${op.split(':')[1] ?? 'get'}(...)`);
    throw new LuaArgumentError(`${op}: the client was closed (r:close()); connect again with redis.connect`);
  }

  async close(id: unknown): Promise<void> {
    const h = typeof id === 'number' ? this.byId.get(id) : undefined;
    if (!h) return;
    this.byId.delete(h.id);
    this.byKey.delete(h.settings.key);
    // quit() waits for replies already asked for; a client that never connected just stops.
    if (h.client.status === 'ready') await h.client.quit().catch(() => h.client.disconnect());
    else h.client.disconnect();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byId.keys()].map((id) => this.close(id)));
  }
}
