-- wrk script: the autosaves of ../shared/baseline/autosave.lua (the same
-- targets, routes, seq numbers and body shape), with the attempt id and a
-- counter as the answer ("ATTEMPT.COUNTER"), so that each acknowledged
-- save can be told from a Marksmith response: done() writes, to the file
-- ACKED, the highest seq acknowledged as stored per attempt, question and
-- part, for bench/autosave.sh to check against the database. Against a
-- server that answers only {"stored": ...}, ACKED stays empty.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  targets = {}
  for line in io.lines(os.getenv("TARGETS") or "targets.txt") do
    local f = {}
    for w in line:gmatch("%S+") do table.insert(f, w) end
    if #f >= 4 then table.insert(targets, f) end
  end
  base = os.time() * 1000
  i = tid or 0
  -- STRIDE=2 (with wrk -t2): each thread saves for its own half of the
  -- students, so that no thread's save is older than another's stored one.
  stride = tonumber(os.getenv("STRIDE") or "1")
  acked = {}
  errors = 0
  stored = 0
end

request = function()
  counter = counter + 1
  i = i + stride
  local t = targets[(i % #targets) + 1]
  local part = t[4 + (counter % (#t - 3))]
  local seq = base + counter * 64 + (tid or 0)
  local body = string.format('{"answer":"%s.%d","seq":%d}', t[2], counter, seq)
  return wrk.format("PUT", string.format("/api/v1/attempts/%s/answers/%s/%s", t[2], t[3], part),
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. t[1]}, body)
end

response = function(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    return
  end
  if not body:find('"stored":true', 1, true) then return end
  stored = stored + 1
  local q = body:match('"question":(%d+)')
  local p = body:match('"part":"([^"]+)"')
  local a = body:match('"answer":"(%d+)%.')
  local s = body:match('"seq":(%d+)')
  if q and p and a and s then
    local k = a .. " " .. q .. " " .. p
    local n = tonumber(s)
    if (acked[k] or 0) < n then acked[k] = n end
  end
end

done = function(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("stored") or 0) end
  io.write(string.format("saves/s=%.0f p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms non2xx=%d stored=%.0f%%\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, 100 * n / math.max(summary.requests, 1)))
  local out = os.getenv("ACKED")
  if not out then return end
  local merged = {}
  for _, t in ipairs(threads) do
    for k, n in pairs(t:get("acked") or {}) do
      if (merged[k] or 0) < n then merged[k] = n end
    end
  end
  local f = io.open(out, "w")
  for k, n in pairs(merged) do f:write(string.format("%s %.0f\n", k, n)) end
  f:close()
end
