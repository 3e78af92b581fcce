-- wrk script: POST /1/upload with one body of N valid event records, for
-- measuring the emulator (or anything CleverTap-compatible) on loopback.
--   ACCOUNT=BENCH-1 PASSCODE=bench RECORDS=1000 \
--     wrk -t2 -c15 -d10s -s tools/clevertap-emulator/wrk_upload.lua http://127.0.0.1:PORT/1/upload
-- Prints records/s at the end (requests/s x records per request, 200s only).
local records = tonumber(os.getenv("RECORDS") or "1000")
local parts = {}
for i = 1, records do
  parts[i] = string.format(
    '{"type":"event","identity":"user-%d","evtName":"Coupon Generated","ts":1764200000,' ..
    '"evtData":{"CouponCode":"CODE-%06d","Campaign":"summer","Value":10.5}}', i, i)
end

wrk.method = "POST"
wrk.body = '{"d":[' .. table.concat(parts, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
wrk.headers["X-CleverTap-Account-Id"] = os.getenv("ACCOUNT") or "BENCH-1"
wrk.headers["X-CleverTap-Passcode"] = os.getenv("PASSCODE") or "bench"

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read +
                 summary.errors.write + summary.errors.timeout
  local ok = summary.requests - failed
  io.write(string.format("records per request: %d, answered 2xx: %d, records/s: %.0f, " ..
                         "p50 %.1f ms, p99 %.1f ms\n", records, ok, ok * records / seconds,
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
