-- 90% GET /users/me, 8% POST /auth/login, 2% POST /auth/register.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local users = tonumber(os.getenv("USERS"))
local password = os.getenv("PASSWORD")
local counter = 0
local run = os.time()
setup = function(thread) counter = counter + 1; thread:set("tid", counter) end
local n = 0
math.randomseed(os.time())
request = function()
  n = n + 1
  local r = math.random(100)
  if r <= 90 then
    return wrk.format("GET", "/users/me", { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
  elseif r <= 98 then
    local body = string.format('{"email":"seed%d@bench.example","password":"%s"}', math.random(users) - 1, password)
    return wrk.format("POST", "/auth/login", { ["Content-Type"] = "application/json" }, body)
  end
  local body = string.format('{"email":"mix-%d-%d-%d@bench.example","password":"registered in a benchmark"}', run, tid or 0, n)
  return wrk.format("POST", "/auth/register", { ["Content-Type"] = "application/json" }, body)
end
