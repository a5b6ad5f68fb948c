-- wrk script for bench/web.py. Environment:
--   BENCH_METHOD  GET or POST
--   BENCH_PATHS   a file of request paths, one a line; thread N of T takes lines N, N+T, ...
--                 so no two requests name the same path (a path each subscriber's link)
--   BENCH_BODY    the body, where "{n}" becomes a number unique to the request
--   BENCH_TYPE    the body's Content-Type
--   BENCH_THREADS the number of wrk threads (-t)
--   BENCH_FORWARDED  "1": each request claims its own client address in X-Forwarded-For
-- done() prints one line of JSON: requests, seconds, errors, non-2xx answers, latency.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  table.insert(threads, thread)
end

function init(args)
  stride = tonumber(os.getenv("BENCH_THREADS") or "1")
  non_2xx = 0
  paths = {}
  local file = os.getenv("BENCH_PATHS")
  local line_number = 0
  for line in io.lines(file) do
    line_number = line_number + 1
    if (line_number - thread_number) % stride == 0 then
      paths[#paths + 1] = line
    end
  end
  next_path = 1
  sent = 0
  exhausted = 0
  method = os.getenv("BENCH_METHOD") or "GET"
  body = os.getenv("BENCH_BODY")
  forwarded = os.getenv("BENCH_FORWARDED") == "1"
  headers = {}
  local kind = os.getenv("BENCH_TYPE")
  if kind and #kind > 0 then
    headers["Content-Type"] = kind
  end
end

function request()
  local path = paths[next_path]
  if next_path < #paths then
    next_path = next_path + 1
  else
    exhausted = 1
  end
  sent = sent + 1
  local number = thread_number * 10000000 + sent
  if forwarded then
    headers["X-Forwarded-For"] = string.format(
      "10.%d.%d.%d", thread_number, math.floor(sent / 256) % 256, sent % 256)
  end
  local this_body = nil
  if body and #body > 0 then
    this_body = string.gsub(body, "{n}", tostring(number))
  end
  return wrk.format(method, path, headers, this_body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests)
  local ran_out = 0
  local not_ok = 0
  for _, thread in ipairs(threads) do
    ran_out = ran_out + thread:get("exhausted")
    not_ok = not_ok + thread:get("non_2xx")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "timeouts": %d, "non_2xx": %d, "p50_ms": %.2f, '
      .. '"p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "paths_ran_out": %d}\n',
    summary.requests, summary.duration / 1e6, errors.connect, errors.read, errors.write,
    errors.timeout, not_ok, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, ran_out))
end
