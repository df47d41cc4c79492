// The Lua face of the metrics feature: metrics.counter/gauge/histogram return objects whose
// methods call the host with the metric's id. The host raises every mistake, and core points
// the error at the app's line (frames of this chunk are skipped).
export const METRICS_LUA = String.raw`
local host = ...
local h_declare, h_update, setmetatable = host.declare, host.update, setmetatable

local Metric = {}
Metric.__index = Metric
Metric.__name = "metric"
function Metric:inc(n, labels) h_update(self[1], "inc", n, labels) end
function Metric:dec(n, labels) h_update(self[1], "dec", n, labels) end
function Metric:set(v, labels) h_update(self[1], "set", v, labels) end
function Metric:observe(v, labels) h_update(self[1], "observe", v, labels) end

local made = {}
local function maker(kind)
  return function(opts)
    local id = h_declare(kind, opts)
    local m = made[id]
    if not m then
      m = setmetatable({ id, kind = kind, name = opts.name }, Metric)
      made[id] = m
    end
    return m
  end
end

return { counter = maker("counter"), gauge = maker("gauge"), histogram = maker("histogram") }
`;
