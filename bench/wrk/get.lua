-- GET of the URL given to wrk (a report, a filtered log list) with the bearer token.
dofile("bench/wrk/common.lua")
function init(args) seed() end
function request() return wrk.format("GET", nil, auth_headers) end
