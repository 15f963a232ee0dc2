-- GET /api/v1/members/{id} with a random id in [MEMBER_MIN, MEMBER_MAX].
dofile("bench/wrk/common.lua")
local lo, hi = tonumber(os.getenv("MEMBER_MIN")), tonumber(os.getenv("MEMBER_MAX"))
function init(args) seed() end
function request()
  return wrk.format("GET", "/api/v1/members/" .. math.random(lo, hi), auth_headers)
end
