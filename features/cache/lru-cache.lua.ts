// `lru_cache`: the original Redox's cache API (`lru_cache.create(max)` with `:get/:set/:delete`),
// kept so seed apps run unchanged. A thin layer over this feature's `cache.new`; provided to
// Lua as an extra module through the feature contract (`extraModules`).
export const LRU_CACHE_LUA = String.raw`
local cache = ...
local type, error, tostring, floor = type, error, tostring, math.floor

local lru_cache = {}

--- An LRU cache holding at most max entries (and at most cache's default max_bytes). Checked
--- here so the error names this function; a whole float (3.0) counts, as on the host.
function lru_cache.create(max)
  if type(max) ~= "number" or max < 1 or max ~= floor(max) then
    error("lru_cache.create(max): max must be an integer >= 1 (the most entries kept), got " .. tostring(max), 2)
  end
  return cache.new({ max_entries = max })
end

return lru_cache
`;
