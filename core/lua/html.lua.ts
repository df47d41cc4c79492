// redox.html.escape: text made safe to put into HTML.
export const HTML_LUA = String.raw`
local M = {}

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- Text made safe for HTML element content and quoted attribute values.
function M.escape(s)
  if s == nil then return "" end
  return (tostring(s):gsub("[&<>\"']", ESCAPES))
end

return M
`;
