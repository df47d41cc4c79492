// Lua that compiled TypeScript apps carry (module "redox_ts"): what TypeScriptToLua leaves to
// the host. Numbers print as JavaScript prints them, `console` writes like Node's, and `JSON`
// is the Redox json module with JavaScript's names. Every compiled module starts with
// `local ____rx = require("redox_ts")` and takes tostring, console and JSON from it.
export const SUPPORT_LUA = String.raw`
local json = require("json")
local log = require("log")
local raw_tostring, math_type, format, rep, huge = tostring, math.type, string.format, string.rep, math.huge
local M = {}

-- JavaScript's Number.prototype.toString: the shortest digits that read back as the same
-- number, without ".0" on whole numbers, and exponents only outside 1e-7 .. 1e21.
local function number_text(n)
  if math_type(n) == "integer" then return format("%d", n) end
  if n ~= n then return "NaN" end
  if n == huge then return "Infinity" end
  if n == -huge then return "-Infinity" end
  if n == 0 then return "0" end
  local s
  for precision = 0, 16 do
    s = format("%." .. precision .. "e", n)
    if tonumber(s) == n then break end
  end
  local sign, int, frac, exp = s:match("^(-?)(%d)%.?(%d*)e([-+]%d+)$")
  local digits = (int .. frac):gsub("0+$", "")
  local k, e = #digits, tonumber(exp) + 1
  local out
  if k <= e and e <= 21 then out = digits .. rep("0", e - k)
  elseif 0 < e and e <= 21 then out = digits:sub(1, e) .. "." .. digits:sub(e + 1)
  elseif -6 < e and e <= 0 then out = "0." .. rep("0", -e) .. digits
  else
    out = digits:sub(1, 1) .. (k > 1 and ("." .. digits:sub(2)) or "") .. "e" .. (e > 0 and "+" or "-") .. math.abs(e - 1)
  end
  return sign .. out
end

function M.tostring(v)
  if type(v) == "number" then return number_text(v) end
  return raw_tostring(v)
end

M.array = json.array

-- console -----------------------------------------------------------------------------------
local function show(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return number_text(v) end
  if t == "table" and v ~= json.null then
    local mt = getmetatable(v)
    if not (mt and mt.__tostring) then
      local ok, text = pcall(json.encode, v)
      if ok then return text end
    end
  end
  return raw_tostring(v)
end

local function line(...)
  local n, parts = select("#", ...), {}
  for i = 1, n do parts[i] = show((select(i, ...))) end
  return table.concat(parts, " ")
end

M.console = {
  log = function(...) print(line(...)) end,
  info = function(...) print(line(...)) end,
  debug = function(...) print(line(...)) end,
  warn = function(...) log.warn(line(...)) end,
  error = function(...) log.error(line(...)) end,
}

-- Built-in methods TypeScriptToLua lacks (plugin.ts routes calls here). Strings are Lua byte
-- strings, so indexes count bytes, as TypeScriptToLua's own indexOf does.
local floor, max, min = math.floor, math.max, math.min

local function index_arg(i, default)
  if i == nil or i ~= i then return default end
  if i == huge or i == -huge then return i end
  return i < 0 and -floor(-i) or floor(i)
end

function M.string_lastIndexOf(s, search, from)
  search = M.tostring(search)
  local n = #search
  local start = min(#s - n, max(index_arg(from, huge), 0))
  for i = start, 0, -1 do
    if s:find(search, i + 1, true) == i + 1 then return i end
  end
  return -1
end

function M.string_at(s, i)
  i = index_arg(i, 0)
  if i < 0 then i = #s + i end
  if i < 0 or i >= #s then return nil end
  return s:sub(i + 1, i + 1)
end

function M.string_codePointAt(s, i)
  i = index_arg(i, 0)
  if i < 0 or i >= #s then return nil end
  local ok, cp = pcall(utf8.codepoint, s, i + 1)
  if ok then return cp end
  return s:byte(i + 1)
end

-- Byte order, the same in every locale (Redox has no locale data).
function M.string_localeCompare(s, that)
  that = M.tostring(that)
  if s < that then return -1 elseif s > that then return 1 end
  return 0
end

M.string_toLocaleLowerCase = function(s) return s:lower() end
M.string_toLocaleUpperCase = function(s) return s:upper() end
M.string_isWellFormed = function(s) return utf8.len(s) ~= nil end

function M.array_lastIndexOf(a, value, from)
  local len = #a
  local start = index_arg(from, len - 1)
  if start < 0 then start = len + start end
  for i = min(start, len - 1), 0, -1 do
    if a[i + 1] == value then return i end
  end
  return -1
end

function M.array_findLastIndex(a, predicate, this)
  for i = #a, 1, -1 do
    if predicate(this, a[i], i - 1, a) then return i - 1 end
  end
  return -1
end

function M.array_findLast(a, predicate, this)
  local i = M.array_findLastIndex(a, predicate, this)
  if i >= 0 then return a[i + 1] end
  return nil
end

-- JSON --------------------------------------------------------------------------------------
-- Errors are Error-like tables so that catch (e) can read e.message, as in JavaScript.
local error_mt = { __tostring = function(e) return e.name .. ": " .. e.message end }
local function fail(name, message)
  error(setmetatable({ name = name, message = message, stack = debug.traceback(message, 3) }, error_mt), 3)
end

local function strip_position(msg)
  return (raw_tostring(msg):gsub("^[^\n]-:%d+: ", ""))
end

-- Re-indents compact JSON the way JSON.stringify(value, null, space) lays it out.
local function indent(text, unit)
  local out, n, depth, i, len = {}, 0, 0, 1, #text
  local function push(s) n = n + 1; out[n] = s end
  while i <= len do
    local c = text:sub(i, i)
    if c == '"' then
      local j = i + 1
      while true do
        local q = text:find('["\\]', j)
        if text:sub(q, q) == "\\" then j = q + 2 else j = q; break end
      end
      push(text:sub(i, j)); i = j
    elseif c == "{" or c == "[" then
      local close = c == "{" and "}" or "]"
      if text:sub(i + 1, i + 1) == close then push(c .. close); i = i + 1
      else depth = depth + 1; push(c .. "\n" .. rep(unit, depth)) end
    elseif c == "}" or c == "]" then
      depth = depth - 1; push("\n" .. rep(unit, depth) .. c)
    elseif c == "," then push(",\n" .. rep(unit, depth))
    elseif c == ":" then push(": ")
    else
      local j = text:find('[",:{}%[%]]', i) or (len + 1)
      push(text:sub(i, j - 1)); i = j - 1
    end
    i = i + 1
  end
  return table.concat(out)
end

-- JSON null inside objects becomes nil (as undefined is dropped in JavaScript, reading it
-- gives nil, which TypeScript compares equal to null); inside arrays it stays json.null so
-- that lengths and positions are kept.
local function from_json(v)
  if type(v) ~= "table" or v == json.null then return v end
  local is_array = json.is_array(v)
  for k, item in pairs(v) do
    if item == json.null then
      if not is_array then v[k] = nil end
    else
      v[k] = from_json(item)
    end
  end
  return v
end

M.JSON = {
  stringify = function(_, value, replacer, space)
    if replacer ~= nil then fail("TypeError", "JSON.stringify: a replacer is not supported in Redox; transform the value before encoding it") end
    local ok, text = pcall(json.encode, value)
    if not ok then fail("TypeError", "JSON.stringify: " .. strip_position(text):gsub("^json%.encode: ", "")) end
    local unit = nil
    if type(space) == "number" and space >= 1 then unit = rep(" ", math.min(10, math.floor(space)))
    elseif type(space) == "string" and space ~= "" then unit = space:sub(1, 10) end
    if unit then text = indent(text, unit) end
    return text
  end,
  parse = function(_, text, reviver)
    if reviver ~= nil then fail("TypeError", "JSON.parse: a reviver is not supported in Redox; transform the value after decoding it") end
    local ok, value = pcall(json.decode, text)
    if not ok then fail("SyntaxError", strip_position(value):gsub("^json%.decode: ", "JSON.parse: ")) end
    return from_json(value)
  end,
}

return M
`;

/** TypeScriptToLua's lualib, adapted: its Error class asks debug.getinfo for the caller, which
 *  the Redox sandbox does not offer (without it, Error keeps its message and stack), and
 *  String(error) gives "Error: message" as in JavaScript, not the message and the stack. */
export function adaptLualib(code: string): string {
  return 'local debug = { traceback = debug.traceback, getinfo = function() return nil end }\n' +
    'local tostring = require("redox_ts").tostring\n' +
    `local lualib = (function()\n${code}\nend)()\n` +
    'if lualib.Error then lualib.Error.prototype.__errorToStringPatched = true end\n' +
    'return lualib\n';
}

/** Prepended (on line 1, so no line moves) to every compiled TypeScript module. */
export const MODULE_PREFIX = 'local ____rx = require("redox_ts") local tostring, console, JSON = ____rx.tostring, ____rx.console, ____rx.JSON ';
