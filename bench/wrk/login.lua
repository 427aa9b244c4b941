-- POST /auth/login as a random seeded user.
local users = tonumber(os.getenv("USERS"))
local password = os.getenv("PASSWORD")
math.randomseed(os.time())
request = function()
  local body = string.format('{"email":"seed%d@bench.example","password":"%s"}', math.random(users) - 1, password)
  return wrk.format("POST", "/auth/login", { ["Content-Type"] = "application/json" }, body)
end
