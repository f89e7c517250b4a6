-- wrk_paths.lua — one request per line of a file of paths, for wrk 4.x, with the same
-- WRKJSON summary line as wrk_get.lua / the shared wrk_post.lua.
-- Env:
--   PATHS_FILE    file with one path per line ("/api/sandbox/charges/<id>/pay"); threads stride
--                 through it so each line is used once; after exhaustion a thread wraps
--                 (wraps are counted: for one-shot requests such as payments a wrap means
--                 the pool was too small).
--   METHOD        GET (default) or POST
--   BODY          body sent with every request when METHOD=POST (default "{}")
--   EXTRA_HEADER  optional "Name: value" header
--   WRK_THREADS   must equal wrk -t (used for striding)
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  method = os.getenv("METHOD") or "GET"
  body = nil
  local headers = {}
  if method ~= "GET" then
    body = os.getenv("BODY") or "{}"
    headers["Content-Type"] = "application/json"
  end
  local h = os.getenv("EXTRA_HEADER")
  if h and h ~= "" then
    local k, v = h:match("^([^:]+):%s*(.*)$")
    headers[k] = v
  end
  reqs = {}
  for line in io.lines(os.getenv("PATHS_FILE")) do
    if #line > 0 then reqs[#reqs + 1] = wrk.format(method, line, headers, body) end
  end
  if #reqs == 0 then error("PATHS_FILE is empty") end
  idx = tid
  wraps = 0
  statuses = {}
end

function request()
  if idx > #reqs then idx = ((idx - 1) % nthreads) + 1; wraps = wraps + 1 end
  local r = reqs[idx]
  idx = idx + nthreads
  return r
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total_wraps = 0
  local st = {}
  for _, t in ipairs(threads) do
    total_wraps = total_wraps + (t:get("wraps") or 0)
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
    '"body_wraps":%d,"statuses":{%s}}\n',
    summary.requests, dur, summary.requests / dur, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    total_wraps, table.concat(parts, ",")))
end
