-- wrk script: the partner guide's one-record CleverTap upload, keep-alive, with
-- the identity drawn from 100,000 profiles per request (talon-ingest keys each
-- record by identity, so one fixed identity would load one partition only).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-CleverTap-Account-Id"] = "BENCH-ACC-0"
wrk.headers["X-CleverTap-Passcode"] = "bench-passcode"

local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end

local n = 0
function init(args)
    math.randomseed(os.time() * 100 + (id or 0))
end

function request()
    n = n + 1
    local body = string.format(
        '{"d":[{"type":"event","evtName":"Coupon Generated","$source":"Talon.One",' ..
        '"identity":"P%07d","evtData":{"CouponGenerated":"XMAS-%d-%08d"}}]}',
        math.random(0, 99999), id or 0, n)
    return wrk.format(nil, nil, nil, body)
end
