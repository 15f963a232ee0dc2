-- POST /api/v1/sync/push: 500 new logs (fresh UUIDs) a request, as the team member.
dofile("bench/wrk/log_create.lua")
function request()
  local items = {}
  for i = 1, 500 do items[i] = '{"op":"create_log","data":' .. log_json() .. '}' end
  return wrk.format("POST", "/api/v1/sync/push", json_headers,
    '{"device_id":"bench-' .. (tid or 0) .. '","items":[' .. table.concat(items, ",") .. ']}')
end
