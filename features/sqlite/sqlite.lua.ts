// The module Lua sees: database and statement objects around the host's integer handles.
// Host errors need no wrapping here: core raises them at the user's line, skipping this chunk.
export const SQLITE_LUA = String.raw`
local host = ...
local type, error, pcall, setmetatable, tostring = type, error, pcall, setmetatable, tostring
local pack, unpack = table.pack, table.unpack
local find, gsub, sub, pairs = string.find, string.gsub, string.sub, pairs

local h_open, h_close, h_release, h_is_open = host.open, host.close, host.release, host.is_open
local h_exec, h_query, h_get, h_run, h_prepare = host.exec, host.query, host.get, host.run, host.prepare
local s_query, s_get, s_run, s_columns, s_release = host.stmt_query, host.stmt_get, host.stmt_run, host.stmt_columns, host.stmt_release
local tx_begin, tx_end = host.tx_begin, host.tx_end

-- Handles live in weak tables, not in the objects, so Lua code cannot forge or change them.
local db_ids = setmetatable({}, { __mode = "k" })
local stmt_ids = setmetatable({}, { __mode = "k" })
local stmt_db = setmetatable({}, { __mode = "k" }) -- keeps a statement's database alive

local M = {}

local Db = {}
local db_mt = { __name = "sqlite.db", __index = Db }
db_mt.__gc = function(self) h_release(db_ids[self]) end
db_mt.__close = function(self) h_close(db_ids[self]) end
db_mt.__tostring = function(self)
  return "sqlite.db(" .. tostring(self.path) .. (h_is_open(db_ids[self]) and ")" or ", closed)")
end

local Stmt = {}
local stmt_mt = { __name = "sqlite.stmt", __index = Stmt }
stmt_mt.__gc = function(self) s_release(stmt_ids[self]) end
stmt_mt.__close = function(self) s_release(stmt_ids[self]) end
stmt_mt.__tostring = function(self) return "sqlite.stmt(" .. tostring(self.sql) .. ")" end

local function open_at(path, opts)
  local id, err = h_open(path, opts)
  if id == nil then return nil, err end
  local db = setmetatable({ path = path }, db_mt)
  db_ids[db] = id
  return db
end

--- Opens (and by default creates) a database file, or ":memory:".
function M.open(path, opts)
  return open_at(path, opts)
end

--- The seed's form: sqlite:PATH, sqlite://PATH, sqlite:///ABSOLUTE or sqlite::memory:, with an
--- optional ?mode=ro|rw|rwc.
function M.connect(url, opts)
  if type(url) ~= "string" then error("sqlite.connect: url must be a string like sqlite:app.db, got " .. type(url), 2) end
  local rest = url:match("^sqlite:(.*)$")
  if rest == nil then error("sqlite.connect: url must start with sqlite: (sqlite::memory:, sqlite:app.db or sqlite:///abs/app.db), got " .. url, 2) end
  if sub(rest, 1, 2) == "//" then rest = sub(rest, 3) end
  local path, query = rest:match("^([^?]*)%??(.*)$")
  if path == "" then error("sqlite.connect: url has no path; use sqlite::memory: or sqlite:app.db", 2) end
  if query ~= "" then
    local mode = query:match("^mode=(%a+)$")
    local o = {}
    if opts ~= nil then
      if type(opts) ~= "table" then error("sqlite.connect: options must be a table, got " .. type(opts), 2) end
      for k, v in pairs(opts) do o[k] = v end
    end
    if mode == "ro" then o.readonly = true
    elseif mode == "rw" then o.create = false
    elseif mode ~= "rwc" then error("sqlite.connect: unsupported query '" .. query .. "' (only mode=ro, mode=rw or mode=rwc)", 2) end
    opts = o
  end
  return open_at(path, opts)
end

--- Marks a string as a BLOB. Plain strings that are not valid UTF-8 bind as BLOBs anyway.
function M.blob(bytes)
  if type(bytes) ~= "string" then error("sqlite.blob: expected a string of bytes, got " .. type(bytes), 2) end
  return { __sqlite_blob = bytes }
end

function Db:exec(sql) return h_exec(db_ids[self], sql) end
function Db:query(sql, ...) return h_query(db_ids[self], sql, ...) end
function Db:get(sql, ...) return h_get(db_ids[self], sql, ...) end
function Db:run(sql, ...) return h_run(db_ids[self], sql, ...) end
function Db:close() return h_close(db_ids[self]) end
function Db:is_open() return h_is_open(db_ids[self]) end

function Db:prepare(sql)
  local id, err = h_prepare(db_ids[self], sql)
  if id == nil then return nil, err end
  local stmt = setmetatable({ sql = sql }, stmt_mt)
  stmt_ids[stmt] = id
  stmt_db[stmt] = self
  return stmt
end

function Stmt:query(...) return s_query(stmt_ids[self], ...) end
function Stmt:get(...) return s_get(stmt_ids[self], ...) end
function Stmt:run(...) return s_run(stmt_ids[self], ...) end
function Stmt:columns() return s_columns(stmt_ids[self]) end
function Stmt:close() return s_release(stmt_ids[self]) end

-- Transactions -----------------------------------------------------------------------------
-- fn runs as a string.gsub callback: a C boundary that Lua cannot yield across. Any wait on
-- the host (redox.sleep, an HTTP request) or coroutine.yield inside fn therefore raises instead
-- of suspending the request with the transaction open, where other requests sharing this
-- connection would run inside it and the write lock would be held across the wait.
local NO_WAIT = " [db:transaction: fn must not wait for I/O or yield while the transaction is open, because other " ..
  "requests share this connection meanwhile; do the I/O before or after db:transaction. The transaction was rolled back.]"
local MODES = { deferred = true, immediate = true, exclusive = true }

local function explain(e)
  if type(e) == "string" and (find(e, "waits for I/O and cannot be called here", 1, true)
      or find(e, "attempt to yield across a C-call boundary", 1, true)) then
    return e .. NO_WAIT
  end
  return e
end

--- Runs fn(db) in a transaction: commits when fn returns (and returns its results), rolls back
--- and raises fn's error again when it raises. Nested calls use savepoints.
function Db:transaction(fn, opts)
  local id = db_ids[self]
  if type(fn) ~= "function" then error("db:transaction: expected a function(db), got " .. type(fn), 2) end
  local mode = "immediate"
  if opts ~= nil then
    if type(opts) ~= "table" then error("db:transaction: options must be a table like {mode = \"deferred\"}, got " .. type(opts), 2) end
    mode = opts.mode or mode
    if not MODES[mode] then error("db:transaction: mode must be deferred, immediate or exclusive, got " .. tostring(mode), 2) end
  end
  local depth, err = tx_begin(id, mode)
  if depth == nil then return nil, err end
  -- Closed by the runtime when it abandons the request inside fn (CPU budget, timeout): the
  -- transaction is rolled back instead of staying open on the shared connection.
  local open <close> = setmetatable({}, { __close = function(o) if o.depth then pcall(tx_end, id, o.depth, false) end end })
  open.depth = depth
  local results
  local ran, e = pcall(gsub, "x", "x", function() results = pack(fn(self)) end)
  open.depth = nil
  if ran then
    local done, cerr = tx_end(id, depth, true)
    if done == nil then return nil, cerr end
    return unpack(results, 1, results.n)
  end
  local rok, rerr = pcall(tx_end, id, depth, false)
  if not rok then e = tostring(e) .. " (and the rollback failed: " .. tostring(rerr) .. ")" end
  error(explain(e), 0)
end

return M
`;
