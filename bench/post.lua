-- wrk script: POST the same form body the clients send, with Basic auth.
-- Set by run_all.py through environment variables.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_FORM")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
