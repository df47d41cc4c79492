// `lru_cache`: the original Redox's cache API (`lru_cache.create(max)` with `:get/:set/:delete`),
// kept so seed apps run unchanged. A thin layer over this feature's `cache.new`; provided to
// Lua as an extra module through the feature contract (`extraModules`).
export const LRU_CACHE_LUA = String.raw`
local cache = ...
local lru_cache = {}

--- An LRU cache holding at most max entries (and at most cache's default max_bytes). The host
--- checks max (an integer >= 1; 3.0 counts) and raises at the caller's line.
function lru_cache.create(max)
  return cache.new({ max_entries = max })
end

return lru_cache
`;
