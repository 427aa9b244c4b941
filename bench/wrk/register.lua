-- POST /auth/register with an email no other request uses.
local counter = 0
local run = os.time()
setup = function(thread) counter = counter + 1; thread:set("tid", counter) end
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"email":"new-%d-%d-%d@bench.example","password":"registered in a benchmark"}', run, tid or 0, n)
  return wrk.format("POST", "/auth/register", { ["Content-Type"] = "application/json" }, body)
end
