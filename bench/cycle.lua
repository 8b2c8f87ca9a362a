-- wrk script: each request takes the next line of $BENCH_ITEMS, threads
-- interleaved so no two threads send the same item ($BENCH_THREADS: wrk's -t, so a
-- single thread takes every line, not every other one).
--   BENCH_KIND=webhook  line = "<Stripe-Signature>\t<json body>"  -> POST $BENCH_WEBHOOK_PATH
--                       (default /invoices/wh/; the peer's endpoint has its own path)
--   BENCH_KIND=pay      line = "<pay token>"                      -> POST /pay/<token>/pay/
--   BENCH_KIND=sim      line = "<form body>"                      -> POST <url> (simulator API)
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local items, index, step, kind, csrf, key, hook
function init(args)
  items = {}
  for line in io.lines(os.getenv("BENCH_ITEMS")) do
    if line ~= "" then items[#items + 1] = line end
  end
  index = tonumber(tid) or 0
  step = tonumber(os.getenv("BENCH_THREADS")) or 2
  kind = os.getenv("BENCH_KIND")
  csrf = os.getenv("BENCH_CSRF")
  key = os.getenv("BENCH_SIM_KEY") or "sk_test_simulator"
  hook = os.getenv("BENCH_WEBHOOK_PATH") or "/invoices/wh/"
end

function request()
  local item = items[(index % #items) + 1]
  index = index + step
  if kind == "webhook" then
    local signature, body = item:match("([^\t]+)\t(.*)")
    return wrk.format("POST", hook,
      {["Content-Type"] = "application/json", ["Stripe-Signature"] = signature}, body)
  elseif kind == "pay" then
    return wrk.format("POST", "/pay/" .. item .. "/pay/",
      {["Cookie"] = "csrftoken=" .. csrf, ["X-CSRFToken"] = csrf, ["HX-Request"] = "true"}, "")
  else
    return wrk.format("POST", nil,
      {["Content-Type"] = "application/x-www-form-urlencoded",
       ["Authorization"] = "Bearer " .. key}, item)
  end
end
