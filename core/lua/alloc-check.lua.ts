// Large single allocations are checked against the heap limit before they happen: one
// string.rep call can ask the wasm heap for gigabytes inside one C call, where no hook runs,
// and wasm memory never shrinks afterwards. `reserve(bytes)` (from the VM) raises and marks the
// request as over its memory limit when the result would not fit.
export const ALLOC_CHECK_LUA = String.raw`
local reserve = ...
local rep, type, tostring = string.rep, type, tostring
-- Below this, the count hook's heap check is enough.
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
`;
