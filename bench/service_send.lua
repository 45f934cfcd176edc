-- wrk script of bench/service.py: POST /api/sms/send-shaped JSON, a new recipient each time.
-- BENCH_AUTH (an "Authorization" value, may be empty) and BENCH_BODY come from the runner.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
local text = os.getenv("BENCH_BODY")
local counter = 0

request = function()
  counter = counter + 1
  local body = string.format('{"to_number": "+1415%07d", "message": "%s"}',
                             2000000 + counter % 1000000, text)
  return wrk.format(nil, nil, nil, body)
end
