-- wrk script: the seed's one-record CleverTap upload, keep-alive.
wrk.method = "POST"
wrk.body = '{"d":[{"type":"event","evtName":"Coupon Generated","$source":"Talon.One","identity":"p1","evtData":{"CouponGenerated":"X1"}}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-CleverTap-Account-Id"] = "W9R-BENCH-001"
wrk.headers["X-CleverTap-Passcode"] = "bench-passcode"
