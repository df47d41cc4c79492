// The module Lua sees: database (pool) and transaction objects around the host's integer
// handles. Host errors need no wrapping here: core raises them at the user's line.
export const POSTGRES_LUA = String.raw`
local host = ...
local json = require("json")
local type, error, pcall, setmetatable, tostring = type, error, pcall, setmetatable, tostring
local decode = json.decode

local h_connect, h_close, h_is_open, h_stats = host.connect, host.close, host.is_open, host.stats
local h_query, h_get, h_run = host.query, host.get, host.run
local t_query, t_get, t_run = host.tx_query, host.tx_get, host.tx_run
local t_begin, t_savepoint, t_end, t_abandon = host.tx_begin, host.tx_savepoint, host.tx_end, host.tx_abandon

-- Handles live in weak tables, not in the objects, so Lua code cannot forge or change them.
local db_ids = setmetatable({}, { __mode = "k" })
local tx_ids = setmetatable({}, { __mode = "k" })

local M = {}

-- JSON cells and arrays holding NULL arrive as JSON text with their places listed in cells
-- ({row, column, ...}): decode them here so JSON null and array NULLs become json.null.
local function decoded(rows, cells)
  if cells == nil or type(rows) ~= "table" then return rows, cells end
  local list = rows.rows or rows -- db:run gives {changes=, rows=}
  for i = 1, #cells, 2 do
    local row = list[cells[i]]
    local col = cells[i + 1]
    row[col] = decode(row[col])
  end
  return rows
end

local function first(rows, cells)
  if rows == nil then return nil, cells end
  rows = decoded(rows, cells)
  return rows[1]
end

local Db = {}
local db_mt = { __name = "postgres.db", __index = Db }
db_mt.__tostring = function(self)
  return "postgres.db(" .. tostring(self.target) .. (h_is_open(db_ids[self]) and ")" or ", closed)")
end

--- A pool: postgres.connect(url), postgres.connect(url, opts) or postgres.connect(opts).
--- Connections open on first use; the same settings return the same pool.
function M.connect(a, b)
  local id, target = h_connect(a, b)
  local db = setmetatable({ target = target }, db_mt)
  db_ids[db] = id
  return db
end

--- Marks a string as bytea: sent as binary even when the bytes are valid UTF-8.
function M.bytea(bytes)
  if type(bytes) ~= "string" then error("postgres.bytea: expected a string of bytes, got " .. type(bytes), 2) end
  return { __pg_bytea = bytes }
end

function Db:query(sql, ...) return decoded(h_query(db_ids[self], sql, ...)) end
function Db:get(sql, ...) return first(h_get(db_ids[self], sql, ...)) end
function Db:run(sql, ...) return decoded(h_run(db_ids[self], sql, ...)) end
function Db:close() return h_close(db_ids[self]) end
function Db:is_open() return h_is_open(db_ids[self]) end
function Db:stats() return h_stats(db_ids[self]) end

-- Transactions -----------------------------------------------------------------------------
local Tx = {}
local tx_mt = { __name = "postgres.tx", __index = Tx }
-- A request stopped inside fn never reaches the COMMIT/ROLLBACK below: when its tx object is
-- collected, the host rolls back and returns the connection to the pool.
tx_mt.__gc = function(self) t_abandon(tx_ids[self]) end
tx_mt.__tostring = function() return "postgres.tx" end

function Tx:query(sql, ...) return decoded(t_query(tx_ids[self], sql, ...)) end
function Tx:get(sql, ...) return first(t_get(tx_ids[self], sql, ...)) end
function Tx:run(sql, ...) return decoded(t_run(tx_ids[self], sql, ...)) end

-- Ends the (sub)transaction at depth after fn ran under pcall: commit and return fn's results,
-- or roll back and raise fn's error again.
local function finish(id, depth, ok, ...)
  if ok then
    local done, err = t_end(id, depth, true)
    if done == nil then return nil, err end
    return ...
  end
  local e = ...
  local rok, rerr = pcall(t_end, id, depth, false)
  if not rok then e = tostring(e) .. " (and the rollback failed: " .. tostring(rerr) .. ")" end
  error(e, 0)
end

--- Runs fn(tx) in a transaction on one pooled connection: commits when fn returns (returning
--- its results), rolls back and raises fn's error again when it raises. Use tx, not db,
--- inside fn: db's calls run on other connections, outside the transaction.
function Db:transaction(fn)
  if type(fn) ~= "function" then error("db:transaction: expected a function(tx), got " .. type(fn), 2) end
  local id, err = t_begin(db_ids[self])
  if id == nil then return nil, err end
  local tx = setmetatable({}, tx_mt)
  tx_ids[tx] = id
  return finish(id, 1, pcall(fn, tx))
end

--- Nested: a savepoint. An error in fn rolls back only fn's part.
function Tx:transaction(fn)
  if type(fn) ~= "function" then error("tx:transaction: expected a function(tx), got " .. type(fn), 2) end
  local id = tx_ids[self]
  local depth, err = t_savepoint(id)
  if depth == nil then return nil, err end
  return finish(id, depth, pcall(fn, self))
end

return M
`;
