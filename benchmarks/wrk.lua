-- The wrk script of every HTTP scenario in benchmarks/run.py, configured through the environment:
--   BENCH_DYNAMIC=1      build each request in Lua (otherwise wrk sends the URL it was given, statically)
--   BENCH_REQUESTS_FILE  lines "METHOD<TAB>PATH<TAB>HEADERS<TAB>BODY" (HEADERS: "Name: value" joined by \31);
--                        request i uses line i modulo the line count
--   BENCH_BUST_HOST      a number B: request i is sent with "Host: 127.0.0.1:<B + i>". The catalog response cache
--                        key includes request.get_host() (port included), so every request misses the cache and
--                        runs exactly the SQL of a real miss.
--   BENCH_WRK_THREADS    wrk -t, so that the threads' request counters interleave (i = thread id + n * threads)
-- done() prints one "BENCH_JSON {...}" line with the percentiles wrk's --latency table lacks (p95).

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1")
   bust = tonumber(os.getenv("BENCH_BUST_HOST") or "")
   n = 0
   wrapped = 0
   reqs = nil
   local file = os.getenv("BENCH_REQUESTS_FILE")
   if file and file ~= "" then
      reqs = {}
      for line in io.lines(file) do
         local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
         if method then
            local h = {}
            for pair in headers:gmatch("[^\31]+") do
               local name, value = pair:match("^([^:]+):%s*(.*)$")
               if name then h[name] = value end
            end
            if body == "" then body = nil end
            table.insert(reqs, {method = method, path = path, headers = h, body = body})
         end
      end
   end
end

if os.getenv("BENCH_DYNAMIC") == "1" then
   function request()
      local i = tid + n * nthreads
      n = n + 1
      local method, path, body = nil, nil, nil
      local headers = {}
      if reqs then
         local r = reqs[(i % #reqs) + 1]
         if i >= #reqs then wrapped = wrapped + 1 end
         method, path, body = r.method, r.path, r.body
         for k, v in pairs(r.headers) do headers[k] = v end
      end
      if bust then headers["Host"] = string.format("127.0.0.1:%d", bust + i) end
      return wrk.format(method, path, headers, body)
   end
end

function done(summary, latency, requests)
   local total_wrapped = 0
   for _, t in ipairs(threads) do total_wrapped = total_wrapped + (t:get("wrapped") or 0) end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p75_us": %d, "p90_us": %d, "p95_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "errors_status": %d, "errors_connect": %d, "errors_read": %d, '
      .. '"errors_write": %d, "errors_timeout": %d, "wrapped": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(95), latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout,
      total_wrapped))
end
