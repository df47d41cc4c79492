// TypeScriptToLua declarations for the `redis` feature: the global `redis` and
// require("redis"). redis.connect is a free function (this: void); commands are methods (":").

interface RedoxError {
  code: string;
  message: string;
}

interface RedisError extends RedoxError {
  /** The error reply's first word (WRONGTYPE, ERR, ...), or connection_refused,
   *  connection_lost, timeout, auth_failed. */
  code: string;
  /** r:pipeline: the position of the failed command. */
  index?: number;
}

/** A reply: a string, an integer, an array (missing values inside are json.null) or, for
 *  hgetall, a table of fields. nil for a missing value. */
type RedisReply = any;

type RedisResult<T> = LuaMultiReturn<[T, undefined] | [undefined, RedisError]>;

/** Keys and values: strings (bytes) or numbers. */
type RedisArg = string | number;

interface RedisOptions {
  /** redis://[user:password@]host:6379[/db], rediss:// for TLS */
  url?: string;
  host?: string;
  port?: number;
  db?: number;
  username?: string;
  password?: string;
  tls?: boolean;
  /** Seconds to wait for a reply. Default 5. */
  timeout?: number;
  /** Seconds a connection attempt may take. Default 10. */
  connect_timeout?: number;
  /** Longest wait between reconnect attempts, seconds. Default 2. */
  max_backoff?: number;
}

interface RedisSetOptions {
  /** Expire after this many seconds. */
  ex?: number;
  /** Expire after this many milliseconds. */
  px?: number;
  exat?: number;
  pxat?: number;
  /** Only set when the key is missing (else the result is nil). */
  nx?: boolean;
  /** Only set when the key exists. */
  xx?: boolean;
  keepttl?: boolean;
  /** Return the old value. */
  get?: boolean;
}

/** The commands, on a client (R = a result) and on a pipeline (R = the pipeline). */
interface RedisCommands<R> {
  get(key: RedisArg): R;
  set(key: RedisArg, value: RedisArg, opts?: RedisSetOptions): R;
  getdel(key: RedisArg): R;
  mget(...keys: RedisArg[]): R;
  mset(...keysAndValues: RedisArg[]): R;
  incr(key: RedisArg): R;
  incrby(key: RedisArg, by: number): R;
  incrbyfloat(key: RedisArg, by: number): R;
  decr(key: RedisArg): R;
  decrby(key: RedisArg, by: number): R;
  append(key: RedisArg, value: RedisArg): R;
  strlen(key: RedisArg): R;
  del(...keys: RedisArg[]): R;
  exists(...keys: RedisArg[]): R;
  expire(key: RedisArg, seconds: number): R;
  pexpire(key: RedisArg, ms: number): R;
  ttl(key: RedisArg): R;
  pttl(key: RedisArg): R;
  persist(key: RedisArg): R;
  type(key: RedisArg): R;
  hget(key: RedisArg, field: RedisArg): R;
  hset(key: RedisArg, ...fieldsAndValues: RedisArg[] | [{ [field: string]: RedisArg }]): R;
  hmget(key: RedisArg, ...fields: RedisArg[]): R;
  hdel(key: RedisArg, ...fields: RedisArg[]): R;
  hexists(key: RedisArg, field: RedisArg): R;
  hincrby(key: RedisArg, field: RedisArg, by: number): R;
  hkeys(key: RedisArg): R;
  hvals(key: RedisArg): R;
  hlen(key: RedisArg): R;
  hgetall(key: RedisArg): R;
  lpush(key: RedisArg, ...values: RedisArg[]): R;
  rpush(key: RedisArg, ...values: RedisArg[]): R;
  lpop(key: RedisArg): R;
  rpop(key: RedisArg): R;
  lrange(key: RedisArg, start: number, stop: number): R;
  llen(key: RedisArg): R;
  ltrim(key: RedisArg, start: number, stop: number): R;
  lrem(key: RedisArg, count: number, value: RedisArg): R;
  sadd(key: RedisArg, ...members: RedisArg[]): R;
  srem(key: RedisArg, ...members: RedisArg[]): R;
  smembers(key: RedisArg): R;
  sismember(key: RedisArg, member: RedisArg): R;
  scard(key: RedisArg): R;
  zadd(key: RedisArg, ...scoresAndMembers: RedisArg[]): R;
  zrem(key: RedisArg, ...members: RedisArg[]): R;
  zscore(key: RedisArg, member: RedisArg): R;
  zincrby(key: RedisArg, by: number, member: RedisArg): R;
  zrange(key: RedisArg, start: RedisArg, stop: RedisArg, ...options: RedisArg[]): R;
  zcard(key: RedisArg): R;
  publish(channel: RedisArg, message: RedisArg): R;
  ping(): R;
  /** Any command by name: call("GETRANGE", "k", 0, 3). */
  call(name: string, ...args: RedisArg[]): R;
}

/** Queues commands; nothing is sent until the pipeline function returns. */
type RedisPipeline = RedisCommands<RedisPipeline>;

/** All replies in order, with n (a missing value is a nil hole). */
type RedisReplies = RedisReply[] & { n: number };

interface RedisClient extends RedisCommands<RedisResult<RedisReply>> {
  /** host:port/db, never the password. */
  readonly target: string;
  /** Sends what fn queued in one round trip; nil, err (with err.index) for the first failed
   *  command. atomic wraps them in MULTI/EXEC. */
  pipeline(fn: (this: void, p: RedisPipeline) => void, opts?: { atomic?: boolean }): RedisResult<RedisReplies>;
  close(): void;
  is_open(): boolean;
}

interface RedisModule {
  /** A client; it connects in the background. The same settings return the same client. */
  connect(this: void, url: string | RedisOptions, opts?: RedisOptions): RedisClient;
}

declare const redis: RedisModule;

declare module 'redis' {
  const redis: RedisModule;
  export = redis;
}
