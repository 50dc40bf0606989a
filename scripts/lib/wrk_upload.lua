-- wrk script for `scripts/bench small-uploads`: every request uploads a file of its own of
-- BENCH_FILE_BYTES bytes (a PDF by its first bytes, named small-<run>-<thread>-<n>.pdf, its name
-- also inside it so no two files are the same), either as Intake's portal form does
-- (BENCH_MODE=multipart: POST /api/upload with portalId, clientName and the file, the CSRF
-- cookie and header from the environment) or as a bare body (BENCH_MODE=put: PUT to the path
-- plus the file's name, for the nginx baselines).
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

local boundary = "----intakebench7MA4YWxkTrZu0gW"
local mode, run, size, filler, prefix, suffix

function init(args)
  mode = os.getenv("BENCH_MODE")
  run = os.getenv("BENCH_RUN")
  size = tonumber(os.getenv("BENCH_FILE_BYTES"))
  local parts = {}
  math.randomseed(tid * 7919)
  for i = 1, math.floor(size / 4) do parts[i] = string.char(math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255)) end
  filler = table.concat(parts)
  if mode == "multipart" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
    wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
    wrk.headers["X-CSRF-Token"] = os.getenv("BENCH_CSRF")
    prefix = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"portalId\"\r\n\r\n1\r\n" ..
             "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"clientName\"\r\n\r\nBench\r\n"
    suffix = "\r\n--" .. boundary .. "--\r\n"
  else
    wrk.method = "PUT"
  end
end

function request()
  counter = counter + 1
  local name = string.format("small-%s-%d-%d.pdf", run, tid, counter)
  local head = "%PDF-1.7\n% " .. name .. "\n"
  local content = head .. string.sub(filler, 1, size - #head)
  if mode == "multipart" then
    local body = prefix .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" .. name ..
                 "\"\r\nContent-Type: application/pdf\r\n\r\n" .. content .. suffix
    return wrk.format(nil, wrk.path, nil, body)
  end
  return wrk.format(nil, wrk.path .. name, nil, content)
end
