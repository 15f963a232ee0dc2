-- GET /api/v1/villages?commune=… (first page) for a random commune from the file COMMUNES
-- (one code a line).
dofile("bench/wrk/common.lua")
local codes = {}
for line in io.lines(os.getenv("COMMUNES")) do table.insert(codes, line) end
function init(args) seed() end
function request()
  return wrk.format("GET", "/api/v1/villages?commune=" .. codes[math.random(1, #codes)], auth_headers)
end
