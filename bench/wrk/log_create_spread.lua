-- POST /api/v1/assistance-logs spread over the country: each request as the next of the
-- accounts in SPREAD_TOKENS ("token village" lines, bench/route.sh), a team member of its own
-- commune, so concurrent writes touch different communes' rollup rows (log_create.lua writes
-- every log as one member of one commune).
dofile("bench/wrk/log_create.lua")
accounts = {}
function init(args)
  seed()
  for line in io.lines(os.getenv("SPREAD_TOKENS")) do
    local token, v = line:match("^(%S+) (%S+)$")
    table.insert(accounts, { token = token, village = v })
  end
  next_account = math.random(1, #accounts)
end
function request()
  local a = accounts[next_account]
  next_account = next_account % #accounts + 1
  village = a.village
  return wrk.format("POST", "/api/v1/assistance-logs",
    { ["authorization"] = "Bearer " .. a.token, ["content-type"] = "application/json" }, log_json())
end
