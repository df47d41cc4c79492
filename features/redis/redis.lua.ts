// The module Lua sees: a client object whose methods are Redis commands in lower case, r:call
// for any other command and r:pipeline. Host errors need no wrapping: core raises them at the
// user's line.
export const REDIS_LUA = String.raw`
local host = ...
local json = require("json")
local type, error, setmetatable, tostring, pairs, select = type, error, setmetatable, tostring, pairs, select
local null = json.null

local h_connect, h_close, h_is_open, h_call, h_pipeline = host.connect, host.close, host.is_open, host.call, host.pipeline
local h_set_flags = host.set_flags

local ids = setmetatable({}, { __mode = "k" })

local M = {}

-- nil inside an array reply arrives as false (RESP2 has no booleans): make it json.null, so
-- the array keeps its length.
local function holes(v)
  for i = 1, #v do
    local x = v[i]
    if x == false then v[i] = null elseif type(x) == "table" then holes(x) end
  end
  return v
end

local function result(v, extra)
  if v == nil then return nil, extra end
  if extra == true then holes(v) end
  return v
end

-- set's options -> arguments: {ex=60, nx=true} -> "EX", 60, "NX" (the host checks them).
local function set_args(key, value, opts)
  local a = { "set", key, value }
  if opts ~= nil then
    local flags = h_set_flags(opts)
    for i = 1, #flags do a[#a + 1] = flags[i] end
  end
  return a
end

-- hset(key, field, value, ...) or hset(key, {field = value, ...})
local function hset_args(key, ...)
  local a = { "hset", key }
  if type((...)) == "table" then
    for f, v in pairs((...)) do a[#a + 1] = f; a[#a + 1] = v end
  else
    for i = 1, select("#", ...) do a[#a + 1] = (select(i, ...)) end
  end
  return a
end

-- Commands with no special arguments: the method name is the command.
local PLAIN = {
  "get", "getdel", "mget", "mset", "incr", "incrby", "incrbyfloat", "decr", "decrby", "append", "strlen",
  "del", "exists", "expire", "pexpire", "ttl", "pttl", "persist", "type",
  "hget", "hmget", "hdel", "hexists", "hincrby", "hkeys", "hvals", "hlen", "hgetall",
  "lpush", "rpush", "lpop", "rpop", "lrange", "llen", "ltrim", "lrem",
  "sadd", "srem", "smembers", "sismember", "scard",
  "zadd", "zrem", "zscore", "zincrby", "zrange", "zcard",
  "publish", "ping",
}

local Client = {}
local mt = { __name = "redis.client", __index = Client }
mt.__tostring = function(self) return "redis.client(" .. tostring(self.target) .. (h_is_open(ids[self]) and ")" or ", closed)") end

--- redis.connect(url), redis.connect(url, opts) or redis.connect(opts). The connection opens in
--- the background; the same settings return the same client.
function M.connect(a, b)
  local id, target = h_connect(a, b)
  local r = setmetatable({ target = target }, mt)
  ids[r] = id
  return r
end

function Client:call(name, ...) return result(h_call(ids[self], name, ...)) end
function Client:close() return h_close(ids[self]) end
function Client:is_open() return h_is_open(ids[self]) end
for _, name in pairs(PLAIN) do
  Client[name] = function(self, ...) return result(h_call(ids[self], name, ...)) end
end
function Client:set(key, value, opts)
  local a = set_args(key, value, opts)
  return result(h_call(ids[self], table.unpack(a)))
end
function Client:hset(key, ...)
  local a = hset_args(key, ...)
  return result(h_call(ids[self], table.unpack(a)))
end

-- Pipelines --------------------------------------------------------------------------------
-- fn(p) queues commands on p (same methods as the client); nothing is sent until fn returns.
local Pipe = {}
local pipe_mt = { __name = "redis.pipeline", __index = Pipe }

local function queue(p, a)
  local list = p[1]
  list[#list + 1] = a
  return p
end

function Pipe:call(name, ...) return queue(self, { name, ... }) end
for _, name in pairs(PLAIN) do
  Pipe[name] = function(self, ...) return queue(self, { name, ... }) end
end
function Pipe:set(key, value, opts) return queue(self, set_args(key, value, opts)) end
function Pipe:hset(key, ...) return queue(self, hset_args(key, ...)) end

--- Sends every command fn queued in one round trip and returns their replies in order
--- ({n = count}, nil for a missing key), or nil, err for the first command that failed.
--- opts.atomic = true wraps them in MULTI/EXEC.
function Client:pipeline(fn, opts)
  if type(fn) ~= "function" then error("r:pipeline: expected a function(p) that queues commands, got " .. type(fn), 2) end
  if opts ~= nil and type(opts) ~= "table" then error("r:pipeline: options must be a table like {atomic = true}, got " .. type(opts), 2) end
  local p = setmetatable({ {} }, pipe_mt)
  fn(p)
  local list = p[1]
  local n = #list
  if n == 0 then return { n = 0 } end
  local replies, extra = h_pipeline(ids[self], list, opts ~= nil and opts.atomic == true)
  if replies == nil then return nil, extra end
  local out = { n = n }
  for i = 1, n do
    local v = replies[i]
    if v == false then v = nil elseif extra == true and type(v) == "table" then holes(v) end
    out[i] = v
  end
  return out
end

return M
`;
