-- wrk_get.lua — GET load for wrk 4.x with a machine-readable summary line (like
-- /work/shared/anchor-harness/wrk_post.lua).
-- Env:
--   EXTRA_HEADER  optional "Name: value" header (e.g. "Authorization: Bearer pt_test_...")
-- The path is the one of the URL given to wrk. done() prints:
--   WRKJSON {...}   latencies in ms, rps over the measured duration, status counts.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "GET"
  local h = os.getenv("EXTRA_HEADER")
  if h and h ~= "" then
    local k, v = h:match("^([^:]+):%s*(.*)$")
    wrk.headers[k] = v
  end
  statuses = {}
  req = wrk.format()
end

function request()
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local st = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then for k, v in pairs(s) do st[k] = (st[k] or 0) + v end end
  end
  local parts = {}
  for k, v in pairs(st) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  local dur = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"bytes":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"lat_mean_ms":%.3f,"lat_p50_ms":%.3f,"lat_p90_ms":%.3f,"lat_p99_ms":%.3f,"lat_max_ms":%.3f,' ..
    '"body_wraps":0,"statuses":{%s}}\n',
    summary.requests, dur, summary.requests / dur, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    table.concat(parts, ",")))
end
