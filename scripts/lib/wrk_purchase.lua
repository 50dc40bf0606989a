-- wrk script for `scripts/bench purchase`: POST /api/v1/storage/purchase, 1 GB each, every
-- request with an Idempotency-Key of its own (thread number and counter), signed in with the
-- session cookie and CSRF header from the environment.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  wrk.method = "POST"
  wrk.body = '{"gb":1}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Cookie"] = "intake_session=" .. os.getenv("BENCH_SESSION")
  wrk.headers["X-CSRF-Token"] = os.getenv("BENCH_CSRF")
end

function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = string.format("bench-%s-%d-%d", os.getenv("BENCH_RUN"), tid, counter)
  return wrk.format()
end
