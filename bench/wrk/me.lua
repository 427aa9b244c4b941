-- GET /users/me with a random seeded token per request.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/users/me", { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
