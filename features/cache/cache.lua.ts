// The Lua face of the cache feature: cache.new returns an object whose methods call the host
// with the cache's handle. A host answer of (nil, "message") is a caller's mistake, raised here
// at the caller's line; (v, true) marks a float whose value is integral (the marshaller would
// otherwise hand it back as an integer).
export const CACHE_LUA = String.raw`
local host = ...
local h_new, h_release, h_get, h_set, h_add, h_incr = host.new, host.release, host.get, host.set, host.add, host.incr
local h_delete, h_ttl, h_size, h_flush, h_stats = host.delete, host.ttl, host.size, host.flush, host.stats
local mtype, type, error, setmetatable = math.type, type, error, setmetatable

local Cache = {}
-- Named caches live as long as the process; a private cache is released when Lua collects it.
local named_mt = { __index = Cache, __name = "cache" }
local private_mt = { __index = Cache, __name = "cache", __gc = function(c) h_release(c[1]) end }

function Cache:get(k)
  local v, f = h_get(self[1], k)
  if f == nil then return v end
  if f == true then return v + 0.0 end
  error(f, 2)
end

function Cache:set(k, v, ttl)
  local ok, e = h_set(self[1], k, v, ttl, mtype(v) == "float")
  if ok then return ok end
  if type(e) == "string" then error(e, 2) end
  return ok, e
end

function Cache:add(k, v, ttl)
  local ok, e = h_add(self[1], k, v, ttl, mtype(v) == "float")
  if ok ~= nil then return ok end
  if type(e) == "string" then error(e, 2) end
  return ok, e
end

function Cache:incr(k, n, init, init_ttl)
  local v, f = h_incr(self[1], k, n, init, init_ttl, mtype(n) == "float", mtype(init) == "float")
  if f == nil then return v end
  if f == true then return v + 0.0 end
  error(f, 2)
end

function Cache:delete(k)
  local ok, e = h_delete(self[1], k)
  if ok == nil then error(e, 2) end
  return ok
end

function Cache:ttl(k)
  local v, f = h_ttl(self[1], k)
  if f == nil then return v end
  if f == true then return v + 0.0 end
  error(f, 2)
end

function Cache:size()
  local n, bytes = h_size(self[1])
  if n == nil then error(bytes, 2) end
  return n, bytes
end

function Cache:flush()
  local ok, e = h_flush(self[1])
  if ok == nil then error(e, 2) end
end

function Cache:stats()
  local s, e = h_stats(self[1])
  if s == nil then error(e, 2) end
  return s
end

--- The cached value, or fn(k) stored with ttl when the key is missing. When fn returns
--- nil, err nothing is stored and nil, err is returned. Two coroutines that miss at the same
--- time may both call fn.
function Cache:get_or_set(k, ttl, fn)
  if type(fn) ~= "function" then error("cache:get_or_set(key, ttl, fn): fn must be a function, got " .. type(fn), 2) end
  local v, f = h_get(self[1], k)
  if f ~= nil then
    if f == true then return v + 0.0 end
    error(f, 2)
  end
  if v ~= nil then return v end
  local err
  v, err = fn(k)
  if v == nil then return nil, err end
  local ok, e = h_set(self[1], k, v, ttl, mtype(v) == "float")
  if ok == nil and type(e) == "string" then error(e, 2) end
  return v
end

local cache = {}

function cache.new(opts)
  local id, is_named = h_new(opts)
  if id == nil then error(is_named, 2) end
  return setmetatable({ id }, is_named and named_mt or private_mt)
end

return cache
`;
