-- The wrk script of every HTTP scenario in benchmarks/run.py, configured through the environment:
--   BENCH_DYNAMIC=1      build each request in Lua (otherwise wrk sends the URL it was given, statically)
--   BENCH_REQUESTS_FILE  lines "METHOD<TAB>PATH<TAB>HEADERS<TAB>BODY" (HEADERS: "Name: value" joined by \31);
--                        request i uses line i modulo the line count
--   BENCH_BUST_HOST      a number B: request i is sent with "Host: 127.0.0.1:<B + i>". The catalog response cache
--                        key includes request.get_host() (port included), so every request misses the cache and
--                        runs exactly the SQL of a real miss.
--   BENCH_WRK_THREADS    wrk -t, so that the threads' request counters interleave (i = thread id + n * threads)
--   BENCH_COUNT_CACHE=1  count the responses' X-Cache values (HIT, MISS, none) and status classes
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
   hits, misses, uncounted, s2xx, s304, s4xx, s5xx = 0, 0, 0, 0, 0, 0, 0
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

if os.getenv("BENCH_COUNT_CACHE") == "1" then
   function response(status, headers, body)
      local x = headers["X-Cache"]
      if x == "HIT" then hits = hits + 1 elseif x == "MISS" then misses = misses + 1 else uncounted = uncounted + 1 end
      if status == 304 then s304 = s304 + 1
      elseif status < 300 then s2xx = s2xx + 1
      elseif status >= 500 then s5xx = s5xx + 1
      elseif status >= 400 then s4xx = s4xx + 1 end
   end
end

function done(summary, latency, requests)
   local sum = {wrapped = 0, hits = 0, misses = 0, uncounted = 0, s2xx = 0, s304 = 0, s4xx = 0, s5xx = 0}
   for _, t in ipairs(threads) do
      for k, _ in pairs(sum) do sum[k] = sum[k] + (t:get(k) or 0) end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p75_us": %d, "p90_us": %d, "p95_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "errors_status": %d, "errors_connect": %d, "errors_read": %d, '
      .. '"errors_write": %d, "errors_timeout": %d, "wrapped": %d, '
      .. '"x_cache": {"HIT": %d, "MISS": %d, "-": %d}, "statuses": {"2xx": %d, "304": %d, "4xx": %d, "5xx": %d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(95), latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout,
      sum.wrapped, sum.hits, sum.misses, sum.uncounted, sum.s2xx, sum.s304, sum.s4xx, sum.s5xx))
end
