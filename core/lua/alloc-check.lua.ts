// Large single allocations are checked against the heap limit before they happen: one
// string.rep or table.concat call can ask the wasm heap for gigabytes inside one C call (a
// separator, or one string listed a million times, is small in memory and huge in the result),
// where no hook runs, and wasm memory never shrinks afterwards. `reserve(bytes)` (from the VM) raises and marks the
// request as over its memory limit when the result would not fit.
export const ALLOC_CHECK_LUA = String.raw`
local reserve = ...
local rep, concat, type, tostring = string.rep, table.concat, type, tostring
-- Below this, the budget hook's heap check is enough.
local CHECK_FROM = 1024 * 1024
string.rep = function(s, n, sep)
  local ts = type(s)
  if type(n) == "number" and n > 1 and (ts == "string" or ts == "number") then
    local size = #tostring(s) * n
    if sep ~= nil then size = size + #tostring(sep) * (n - 1) end
    if size >= CHECK_FROM then reserve(size) end
  end
  local r = rep(s, n, sep)
  return r
end
table.concat = function(list, sep, i, j)
  if type(list) == "table" then
    local first = i or 1
    local last = j or #list
    if type(first) == "number" and type(last) == "number" and last - first >= 1 then
      -- The separators alone first: checking them costs nothing, and they are the usual bomb.
      local size = 0
      if sep ~= nil then size = #tostring(sep) * (last - first) end
      if size >= CHECK_FROM then reserve(size) end
      -- Only long lists can add up to much; a few items are at most what memory already holds.
      if last - first >= 64 then
        for k = first, last do
          local v = list[k]
          size = size + (type(v) == "string" and #v or 24)
        end
        if size >= CHECK_FROM then reserve(size) end
      end
    end
  end
  local r = concat(list, sep, i, j)
  return r
end
`;
