// The Lua side of `redox test`: declaring tests (test/describe/it, before_each/after_each),
// assertions with readable diffs, and the in-process HTTP client. Installed into each test
// file's VM as the module `t` (also the globals test, describe, it); receives the host
// functions `dispatch` (one request to the app in this VM) and `report` (one finished test).
export const TESTLIB_LUA = String.raw`
local host = ...
local h_dispatch, h_report, h_now = host.dispatch, host.report, host.now
local type, tostring, pairs, ipairs, error, pcall, xpcall = type, tostring, pairs, ipairs, error, pcall, xpcall
local sort, concat, fmt = table.sort, table.concat, string.format
local json = require("json")
local traceback = debug.traceback

local t = {}

-- Declaring tests ---------------------------------------------------------------------------
local tests = {}          -- { name=, fn=, skip=, before=, after= } in declaration order
local scope = { names = {}, before = {}, after = {} }

local function full_name(name)
  local parts = {}
  for i, n in ipairs(scope.names) do parts[i] = n end
  parts[#parts + 1] = name
  return concat(parts, " > ")
end

local function copy(list) local c = {} for i, v in ipairs(list) do c[i] = v end return c end

local function add(name, fn, skip)
  if type(name) ~= "string" or name == "" then error("test(name, fn): name must be a non-empty string, got " .. type(name), 3) end
  if type(fn) ~= "function" then error("test(name, fn): fn must be a function, got " .. type(fn), 3) end
  tests[#tests + 1] = { name = full_name(name), fn = fn, skip = skip, before = copy(scope.before), after = copy(scope.after) }
end

--- Declares a test: fn runs later, after the whole file has loaded.
function t.test(name, fn) add(name, fn, false) end
--- Declares a test that is reported as skipped and not run.
function t.skip(name, fn) add(name, fn or function() end, true) end

--- Groups tests: their names are prefixed with name, and hooks declared inside apply to them only.
function t.describe(name, fn)
  if type(name) ~= "string" or type(fn) ~= "function" then error("describe(name, fn): expected a string and a function", 2) end
  local outer = scope
  scope = { names = copy(outer.names), before = copy(outer.before), after = copy(outer.after) }
  scope.names[#scope.names + 1] = name
  local ok, err = pcall(fn)
  scope = outer
  if not ok then error(err, 0) end
end

--- Runs fn before each test declared after it in the same describe (or file).
function t.before_each(fn) scope.before[#scope.before + 1] = fn end
--- Runs fn after each test declared after it, even when the test failed.
function t.after_each(fn) scope.after[#scope.after + 1] = fn end

-- Showing values ----------------------------------------------------------------------------
local function is_ident(k) return type(k) == "string" and k:find("^[%a_][%w_]*$") ~= nil end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function show(v, indent, seen)
  local tv = type(v)
  if tv == "string" then return fmt("%q", v):gsub("\\\n", "\\n") end
  if tv ~= "table" then return tostring(v) end
  if v == json.null then return "json.null" end
  indent, seen = indent or "", seen or {}
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local n, keys = #v, {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  sort(keys, key_order)
  if n == 0 and #keys == 0 then seen[v] = nil return "{}" end
  local inner, lines = indent .. "  ", {}
  for i = 1, n do lines[#lines + 1] = inner .. show(v[i], inner, seen) end
  for _, k in ipairs(keys) do
    local label = is_ident(k) and k or ("[" .. show(k) .. "]")
    lines[#lines + 1] = inner .. label .. " = " .. show(v[k], inner, seen)
  end
  seen[v] = nil
  -- Short tables stay on one line.
  local flat = {}
  for i, l in ipairs(lines) do flat[i] = l:gsub("^%s+", "") end
  local one = "{ " .. concat(flat, ", ") .. " }"
  if #one <= 60 and not one:find("\n") then return one end
  return "{\n" .. concat(lines, ",\n") .. "\n" .. indent .. "}"
end
t.show = show

-- The first place where a and b differ: path, a's value there, b's value there; nil if equal.
local function difference(a, b, path, seen)
  if a == b then return nil end
  if type(a) ~= "table" or type(b) ~= "table" then return path, a, b end
  seen = seen or {}
  if seen[a] == b then return nil end
  seen[a] = b
  local keys = {}
  for k in pairs(a) do keys[#keys + 1] = k end
  for k in pairs(b) do if a[k] == nil then keys[#keys + 1] = k end end
  sort(keys, key_order)
  for _, k in ipairs(keys) do
    local sub = is_ident(k) and (path .. "." .. k) or (path .. "[" .. show(k) .. "]")
    local p, x, y = difference(a[k], b[k], sub, seen)
    if p then return p, x, y end
  end
  return nil
end

local function clip(s, n)
  if #s <= n then return s end
  return s:sub(1, n) .. "... (" .. (#s - n) .. " more bytes)"
end

-- For two multi-line strings: the first line that differs.
local function line_diff(a, b)
  local la, lb = {}, {}
  for l in (a .. "\n"):gmatch("(.-)\n") do la[#la + 1] = l end
  for l in (b .. "\n"):gmatch("(.-)\n") do lb[#lb + 1] = l end
  for i = 1, math.max(#la, #lb) do
    if la[i] ~= lb[i] then
      return fmt("\n  first difference at line %d:\n    - %s\n    + %s", i, tostring(lb[i] or "<no line>"), tostring(la[i] or "<no line>"))
    end
  end
  return ""
end

-- Keeps the frames of the user's files: the runner's, the router's and C frames are noise here.
local function user_frames(tb)
  local keep = {}
  for line in tb:gmatch("[^\n]+") do
    if line:find("^%s") and not line:find("^%s*%[") and not line:find("^%s*%(%.%.%.tail calls%.%.%.%)") then
      keep[#keep + 1] = line
    end
  end
  if #keep == 0 then return nil end
  return "stack traceback:\n" .. concat(keep, "\n")
end
t._user_frames = user_frames

-- Assertions --------------------------------------------------------------------------------
-- A failure records the caller's line (level 3: past fail() and the assertion).
local failure_mt = { __name = "redox.test_failure", __tostring = function(f) return f.message end }
-- (The sandbox keeps only debug.traceback, so the line is read from a traceback.)
local function fail(message, note)
  if note ~= nil then message = tostring(note) .. "\n" .. message end
  local where = traceback("", 3):match("\n%s*([^\n]-:%d+):")
  error(setmetatable({ message = message, where = where }, failure_mt), 0)
end

--- Deep equality: tables compare by content, recursively.
function t.eq(actual, expected, note)
  local path, x, y = difference(actual, expected, "")
  if path == nil then return end
  local msg = "expected values to be equal"
  if path ~= "" then msg = msg .. "\n  first difference at " .. path:gsub("^%.", "") .. ": expected " .. clip(show(y), 200) .. ", got " .. clip(show(x), 200) end
  msg = msg .. "\n  expected: " .. clip(show(expected, "  "), 2000) .. "\n  actual:   " .. clip(show(actual, "  "), 2000)
  if type(actual) == "string" and type(expected) == "string" and (actual:find("\n") or expected:find("\n")) then
    msg = msg .. line_diff(actual, expected)
  end
  fail(msg, note)
end

--- The opposite of t.eq.
function t.neq(actual, unexpected, note)
  if difference(actual, unexpected, "") ~= nil then return end
  fail("expected values to differ, both are " .. clip(show(actual, "  "), 2000), note)
end

--- Passes when v is neither nil nor false.
function t.ok(v, note)
  if v then return v end
  fail("expected a true value, got " .. show(v), note)
end

--- Passes when string s contains Lua pattern p (string.find); plain=true matches p literally.
function t.match(s, p, note, plain)
  if type(s) ~= "string" then fail("t.match: expected a string to search, got " .. type(s) .. " " .. clip(show(s), 200), note) end
  if type(p) ~= "string" then error("t.match(s, pattern): pattern must be a string, got " .. type(p), 2) end
  if s:find(p, 1, plain == true) then return end
  fail("expected " .. clip(show(s), 2000) .. "\n  to match " .. show(p) .. (plain and " (plain)" or " (a Lua pattern: escape magic characters with %)"), note)
end

--- Passes when fn raises; with p, the error text must contain that Lua pattern. Returns the error.
function t.raises(fn, p, note)
  if type(fn) ~= "function" then error("t.raises(fn, pattern): fn must be a function, got " .. type(fn), 2) end
  local ok, err = pcall(fn)
  if ok then fail("expected the function to raise an error, it returned normally", note) end
  if p ~= nil and not tostring(err):find(p) then
    fail("expected an error matching " .. show(p) .. ", got " .. show(tostring(err)), note)
  end
  return err
end

--- Passes when res.status equals status; on failure shows the body (and the handler's error).
function t.status(res, status, note)
  if type(res) ~= "table" or res.status == nil then fail("t.status: expected a response from t.get/t.post/..., got " .. type(res), note) end
  if res.status == status then return res end
  local msg = "expected status " .. tostring(status) .. ", got " .. tostring(res.status) .. "\n  body: " .. clip(show(res.body or ""), 1000)
  if res.error then
    local first, rest = res.error:match("^([^\n]*)\n?(.*)$")
    msg = msg .. "\n  handler error: " .. first
    local frames = user_frames(rest)
    if frames then msg = msg .. "\n  " .. frames:gsub("\n", "\n  ") end
  end
  fail(msg, note)
end

--- Fails the test with a message.
function t.fail(message) fail(tostring(message or "failed")) end

-- The in-process HTTP client ----------------------------------------------------------------
local Response = {}
Response.__index = Response
Response.__name = "redox.test_response"

--- The body decoded as JSON; a body that is not JSON fails the test and shows it.
function Response:json()
  local ok, v = pcall(json.decode, self.body)
  if ok then return v end
  fail("response body is not JSON (" .. tostring(v):gsub("^json%.decode: ", "") .. ")\n  status: " .. tostring(self.status) .. "\n  body: " .. clip(show(self.body), 1000))
end

local REQUEST_OPTIONS = { headers = true, json = true, body = true, query = true }
local function encode_component(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return fmt("%%%02X", c:byte()) end))
end

local request_count = 0
--- Sends one request to the app loaded in this VM, without a socket.
function t.request(method, path, opts)
  if type(method) ~= "string" then error("t.request(method, path, opts): method must be a string", 2) end
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then error("t." .. method:lower() .. "(path, opts): path must be a string starting with /, got " .. show(path), 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("t." .. method:lower() .. ": options must be a table {headers=, json=, body=, query=}, got " .. type(opts), 2) end
  for k in pairs(opts) do
    if not REQUEST_OPTIONS[k] then error("t." .. method:lower() .. ": unknown option '" .. tostring(k) .. "' (known: headers, json, body, query)", 2) end
  end
  local q = path:find("?", 1, true)
  local query = ""
  if q then path, query = path:sub(1, q - 1), path:sub(q + 1) end
  if opts.query then
    local keys = {}
    for k in pairs(opts.query) do keys[#keys + 1] = k end
    sort(keys, key_order)
    for _, k in ipairs(keys) do
      local v = opts.query[k]
      for _, one in ipairs(type(v) == "table" and v or { v }) do
        query = query .. (query == "" and "" or "&") .. encode_component(k) .. "=" .. encode_component(one)
      end
    end
  end
  local headers, has_type = {}, false
  for name, value in pairs(opts.headers or {}) do
    for _, one in ipairs(type(value) == "table" and value or { value }) do
      headers[#headers + 1] = tostring(name) .. "\n" .. tostring(one) .. "\n"
    end
    if tostring(name):lower() == "content-type" then has_type = true end
  end
  local body = opts.body
  if opts.json ~= nil then
    if body ~= nil then error("t." .. method:lower() .. ": give either body or json, not both", 2) end
    body = json.encode(opts.json)
    if not has_type then headers[#headers + 1] = "content-type\napplication/json\n" end
  end
  if body ~= nil then
    body = tostring(body)
    headers[#headers + 1] = "content-length\n" .. #body .. "\n"
  end
  request_count = request_count + 1
  local status, rbody, rheaders, err = h_dispatch(method:upper(), path, query, concat(headers), body, "test-" .. request_count)
  return setmetatable({ status = status, body = rbody or "", headers = rheaders, error = err }, Response)
end

for _, m in ipairs({ "get", "post", "put", "patch", "delete", "head", "options" }) do
  t[m] = function(path, opts) return t.request(m:upper(), path, opts) end
end

-- Running -------------------------------------------------------------------------------------

local function on_error(e)
  if getmetatable(e) == failure_mt then return { message = e.message, where = e.where } end
  return { message = tostring(e), traceback = user_frames(traceback("", 2)), error = true }
end

local function run_hooks(list)
  for _, fn in ipairs(list) do fn() end
end

--- Called by the runner after the file has loaded: runs the tests whose full name contains
--- filter (plain text), reporting each as it finishes. Returns passed, failed, skipped.
function t._run(filter)
  local passed, failed, skipped = 0, 0, 0
  for _, test in ipairs(tests) do
    if filter == nil or filter == "" or test.name:find(filter, 1, true) then
      if test.skip then
        skipped = skipped + 1
        h_report(test.name, "skip", nil, nil, 0)
      else
        local start = h_now()
        local ok, info = xpcall(function() run_hooks(test.before) test.fn() end, on_error)
        local ok2, info2 = xpcall(run_hooks, on_error, test.after)
        if ok and not ok2 then ok, info = ok2, info2 end
        if ok then
          passed = passed + 1
          h_report(test.name, "pass", nil, nil, h_now() - start)
        else
          failed = failed + 1
          local detail = info.where and ("at " .. info.where) or info.traceback
          h_report(test.name, "fail", info.message, detail, h_now() - start)
        end
      end
    end
  end
  return passed, failed, skipped, #tests
end

return t
`;
