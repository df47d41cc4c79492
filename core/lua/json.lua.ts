// The `json` module, in Lua: decoding inside the VM avoids building tables through the C API
// one field at a time, and keeps error positions exact.
export const JSON_LUA = String.raw`
local host, internal = ...
local array_mt = internal.array_mt
local json = {}
local null = setmetatable({}, {__tostring = function() return "null" end, __name = "json.null"})
json.null = null
local DEFAULT_DEPTH = 200

local byte, char, find, sub, format = string.byte, string.char, string.find, string.sub, string.format
local concat, type, tostring, math_type = table.concat, type, tostring, math.type

--- Marks a table so that it encodes as a JSON array even when empty.
function json.array(t)
  t = t or {}
  if type(t) ~= "table" then error("json.array expects a table, got " .. type(t), 2) end
  return setmetatable(t, array_mt)
end
-- Shared empty array value; do not add items to it (use json.array() for a new one).
json.empty_array = setmetatable({}, array_mt)

function json.is_array(t)
  return type(t) == "table" and getmetatable(t) == array_mt
end

-- json.encode runs on the host (core/lua/json-encode.ts): it is on every response.
json.encode = host.json_encode
host.set_registry(host.keys.jsonNull, null)

-- Decoding ---------------------------------------------------------------------------------

local function decode_error(s, pos, what)
  local line, last_nl = 1, 0
  for nl in s:sub(1, pos - 1):gmatch("()\n") do line = line + 1; last_nl = nl end
  local col = pos - last_nl
  error(format("json.decode: %s at position %d (line %d, column %d)", what, pos, line, col), 0)
end

local ws = { [32] = true, [9] = true, [10] = true, [13] = true }
local function skip(s, pos)
  local b = byte(s, pos)
  while b and ws[b] do pos = pos + 1; b = byte(s, pos) end
  return pos, b
end

local decode_value

local function codepoint_to_utf8(cp)
  if cp >= 0xD800 and cp <= 0xDFFF then return "\239\191\189" end -- lone surrogate: U+FFFD
  return utf8.char(cp)
end

local esc_map = { [34] = '"', [92] = '\\', [47] = '/', [98] = '\b', [102] = '\f', [110] = '\n', [114] = '\r', [116] = '\t' }

local function decode_string(s, pos)
  -- pos is at the opening quote
  local parts, np = nil, 0
  local i = pos + 1
  while true do
    local j = find(s, '["\\%c]', i)
    if not j then decode_error(s, pos, "unterminated string") end
    local b = byte(s, j)
    if b == 34 then
      if not parts then return sub(s, i, j - 1), j + 1 end
      np = np + 1; parts[np] = sub(s, i, j - 1)
      return concat(parts), j + 1
    elseif b == 92 then
      parts = parts or {}
      np = np + 1; parts[np] = sub(s, i, j - 1)
      local e = byte(s, j + 1)
      if e == 117 then
        local hex = sub(s, j + 2, j + 5)
        if not find(hex, "^%x%x%x%x$") then decode_error(s, j, "invalid \\u escape") end
        local cp = tonumber(hex, 16)
        local nexti = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and sub(s, nexti, nexti + 1) == "\\u" then
          local lo_hex = sub(s, nexti + 2, nexti + 5)
          local lo = find(lo_hex, "^%x%x%x%x$") and tonumber(lo_hex, 16)
          if lo and lo >= 0xDC00 and lo <= 0xDFFF then
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
            nexti = nexti + 6
          end
        end
        np = np + 1; parts[np] = codepoint_to_utf8(cp)
        i = nexti
      else
        local c = e and esc_map[e]
        if not c then decode_error(s, j, "invalid escape in string") end
        np = np + 1; parts[np] = c
        i = j + 2
      end
    else
      decode_error(s, j, "control character in string")
    end
  end
end

local function decode_number(s, pos)
  local num_end = select(2, find(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", pos))
  if not num_end then decode_error(s, pos, "unexpected character") end
  local text = sub(s, pos, num_end)
  if not (find(text, "^-?0$") or find(text, "^-?0[%.eE]") or find(text, "^-?[1-9]")) or
     find(text, "%.$") or find(text, "%.[eE]") or find(text, "[eE][-+]?$") then
    decode_error(s, pos, "invalid number")
  end
  local n = math.tointeger(tonumber(text)) or tonumber(text)
  if not find(text, "[%.eE]") and math_type(n) ~= "integer" then n = tonumber(text .. ".0") end
  return n, num_end + 1
end

local literals = { t = {"true", true}, f = {"false", false}, n = {"null", null} }

decode_value = function(s, pos, depth, max_depth)
  local b
  pos, b = skip(s, pos)
  if b == 123 then -- {
    if depth >= max_depth then decode_error(s, pos, format("nesting deeper than %d levels", max_depth)) end
    local obj = {}
    pos, b = skip(s, pos + 1)
    if b == 125 then return obj, pos + 1 end
    while true do
      if b ~= 34 then decode_error(s, pos, "expected a string key") end
      local key
      key, pos = decode_string(s, pos)
      pos, b = skip(s, pos)
      if b ~= 58 then decode_error(s, pos, "expected ':'") end
      obj[key], pos = decode_value(s, pos + 1, depth + 1, max_depth)
      pos, b = skip(s, pos)
      if b == 125 then return obj, pos + 1 end
      if b ~= 44 then decode_error(s, pos, "expected ',' or '}'") end
      pos, b = skip(s, pos + 1)
    end
  elseif b == 91 then -- [
    if depth >= max_depth then decode_error(s, pos, format("nesting deeper than %d levels", max_depth)) end
    local arr = setmetatable({}, array_mt)
    local n = 0
    pos, b = skip(s, pos + 1)
    if b == 93 then return arr, pos + 1 end
    while true do
      n = n + 1
      arr[n], pos = decode_value(s, pos, depth + 1, max_depth)
      pos, b = skip(s, pos)
      if b == 93 then return arr, pos + 1 end
      if b ~= 44 then decode_error(s, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif b == 34 then
    return decode_string(s, pos)
  elseif b == nil then
    decode_error(s, pos, "unexpected end of input")
  else
    local lit = literals[char(b)]
    if lit then
      if sub(s, pos, pos + #lit[1] - 1) ~= lit[1] then decode_error(s, pos, "unexpected character") end
      return lit[2], pos + #lit[1]
    end
    return decode_number(s, pos)
  end
end

--- Decodes JSON text. Raises an error with the position on invalid input; JSON null becomes
--- json.null; arrays are marked so they encode back as arrays.
function json.decode(s, opts)
  if type(s) ~= "string" then
    local mt = getmetatable(s)
    if mt and mt.__tostring then s = tostring(s)
    else error("json.decode expects a string, got " .. type(s), 2) end
  end
  local max_depth = (opts and opts.max_depth) or DEFAULT_DEPTH
  local ok, bad = utf8.len(s)
  if not ok then
    local _, err = pcall(decode_error, s, bad, "invalid UTF-8")
    error(err, 2)
  end
  local ok2, value, pos = pcall(decode_value, s, 1, 0, max_depth)
  if not ok2 then error(value, 2) end
  local b
  pos, b = skip(s, pos)
  if b ~= nil then
    local _, err = pcall(decode_error, s, pos, "unexpected trailing characters")
    error(err, 2)
  end
  return value
end

return json
`;
