// The Lua face of the cache feature: cache.new returns an object whose methods call the host
// with the cache's handle. The host raises a caller's mistake (core places it at the app's
// line, skipping this chunk) and keeps floats floats, so most methods are the host function.
export const CACHE_LUA = String.raw`
local host = ...
local h_new, h_release, h_get, h_set = host.new, host.release, host.get, host.set
local type, error, ipairs, setmetatable = type, error, ipairs, setmetatable

local Cache = {}
-- Named caches live as long as the process; a private cache is released when Lua collects it.
local named_mt = { __index = Cache, __name = "cache" }
local private_mt = { __index = Cache, __name = "cache", __gc = function(c) h_release(c[1]) end }

for _, name in ipairs({ "get", "set", "add", "incr", "delete", "ttl", "size", "flush", "stats" }) do
  local f = host[name]
  Cache[name] = function(self, ...) return f(self[1], ...) end
end

--- The cached value, or fn(k) stored with ttl when the key is missing. When fn returns
--- nil, err nothing is stored and nil, err is returned. Two coroutines that miss at the same
--- time may both call fn.
function Cache:get_or_set(k, ttl, fn)
  if type(fn) ~= "function" then error("cache:get_or_set(key, ttl, fn): fn must be a function, got " .. type(fn), 2) end
  local v = h_get(self[1], k)
  if v ~= nil then return v end
  local err
  v, err = fn(k)
  if v == nil then return nil, err end
  h_set(self[1], k, v, ttl)
  return v
end

local cache = {}

function cache.new(opts)
  local id, is_named = h_new(opts)
  return setmetatable({ id }, is_named and named_mt or private_mt)
end

return cache
`;
