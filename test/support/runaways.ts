// The runaway handlers of issue 10, tried as an attacker would: each one dodges the in-VM
// budget hook in its own way (a C boundary the hook cannot yield across, a finalizer that runs
// with hooks off, one long C call). Shared by test/containment.test.ts and bench/containment.ts.

export const RUNAWAY_APP = String.raw`
local sqlite = require("sqlite")
local db = sqlite.open(":memory:")
db:exec("CREATE TABLE t (x INTEGER)")

local function spin() while true do pcall(function() while true do end end) end end

get("/ok", function() return "ok" end)
get("/sort", function()
  local t = {}
  for i = 1, 10 do t[i] = 11 - i end
  table.sort(t, function(a, b) spin() return a < b end)
end)
get("/gsub", function() return (("x"):gsub("x", function() spin() end)) end)
get("/transaction", function()
  db:transaction(function() db:exec("INSERT INTO t VALUES (1)") spin() end)
end)
get("/tostring", function()
  error(setmetatable({}, { __tostring = function() spin() return "never" end }))
end)
get("/load", function()
  while true do load(function() while true do end end) end
end)
get("/gc", function()
  setmetatable({}, { __gc = function() while true do end end })
  collectgarbage()
  return "finalizer returned"
end)
get("/nested", function()
  local function level(n)
    return coroutine.create(function()
      if n == 0 then while true do end end
      local inner = level(n - 1)
      while true do coroutine.resume(inner) end
    end)
  end
  local outer = level(3)
  while true do coroutine.resume(outer) end
end)
post("/trim", function(req) return req:body():match("^%s*(.-)%s*$") end)
get("/backtrack", function() return tostring(string.rep("a", 200):find(".-.-.-.-.-b")) end)
get("/rep", function() return tostring(#string.rep("x", 1e9)) end)
get("/count", function() return tostring(#db:query("SELECT x FROM t")) end)
-- Holds the event loop for 50 ms, far under any budget the tests set (budgets count wall time:
-- a preempted server must not turn this into a 503): requests sent meanwhile are read together
-- and run as one batch (core/runtime/http/dispatch-batch.ts).
get("/busy", function() local t = redox.now() while redox.now() - t < 50 do end return "busy" end)
`;

export interface RunawayCase {
  name: string;
  path: string;
  method?: 'POST';
  body?: string;
  /** 503 for time, 500 for memory. */
  status: number;
}

export const RUNAWAY_CASES: RunawayCase[] = [
  { name: 'pcall loop in a table.sort comparator', path: '/sort', status: 503 },
  { name: 'pcall loop in a gsub callback', path: '/gsub', status: 503 },
  { name: 'pcall loop in a db:transaction body', path: '/transaction', status: 503 },
  { name: "pcall loop in an error's __tostring", path: '/tostring', status: 503 },
  { name: 'while true do load(function() while true do end end) end', path: '/load', status: 503 },
  { name: 'a looping __gc finalizer', path: '/gc', status: 503 },
  { name: 'coroutines nested 3 deep, each resuming the next', path: '/nested', status: 503 },
  // Spaces between two letters: (.-) then tries %s* at every position, O(n^2) in one C call.
  { name: 's:match("^%s*(.-)%s*$") on an 80 KB body of spaces', path: '/trim', method: 'POST', body: `a${' '.repeat(80 * 1024)}a`, status: 503 },
  { name: 'string.rep("a",200):find(".-.-.-.-.-b")', path: '/backtrack', status: 503 },
  { name: 'string.rep("x", 1e9)', path: '/rep', status: 500 },
];
