-- Shared by the bench/wrk scripts (loaded with dofile from the repository root).
-- TOKEN: the bearer token; WRK_OUT: where done() writes
-- "requests failed ok_per_second p50_ms p99_ms" (failed: non-2xx/3xx answers, timeouts, socket errors).
token = os.getenv("TOKEN") or ""
auth_headers = { ["authorization"] = "Bearer " .. token }
json_headers = { ["authorization"] = "Bearer " .. token, ["content-type"] = "application/json" }

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function seed()
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + math.floor(os.clock() * 1000000))
end

function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x",
    math.random(0, 0x7fffffff) * 2 + math.random(0, 1), math.random(0, 0xffff), math.random(0, 0xfff),
    0x8000 + math.random(0, 0x3fff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end

function response(status, headers, body)
  if status >= 300 and not bad_status_seen then
    bad_status_seen = true
    io.stderr:write("unexpected status " .. status .. ": " .. string.sub(body or "", 1, 300) .. "\n")
  end
end

function done(summary, latency, requests)
  -- Throughput counts only the 2xx/3xx answers: a 503 from an exhausted pool is fast and
  -- must not count as work done.
  local e = summary.errors
  local ok = summary.requests - e.status
  local failed = e.status + e.connect + e.read + e.write + e.timeout
  local secs = summary.duration / 1000000
  local line = string.format("%d %d %.1f %.2f %.2f\n", summary.requests, failed, ok / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000)
  local path = os.getenv("WRK_OUT")
  if path then
    local f = io.open(path, "w"); f:write(line); f:close()
  end
  io.write(line)
end
