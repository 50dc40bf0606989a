-- wrk script for `scripts/bench soak-memory`: a signed-in owner's mixed traffic, in a fixed
-- rotation of ten requests: the dashboard and the files page three times each, three downloads of
-- stored files (ids from BENCH_DOWNLOAD_IDS, served by nginx through X-Accel-Redirect), and one
-- multipart upload of a BENCH_FILE_BYTES file through the portal (POST /api/upload). Session
-- cookie, CSRF cookie and header from the environment (BENCH_COOKIE, BENCH_CSRF).
local counter = 0
local thread_id = 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

local boundary = "----intakesoak7MA4YWxkTrZu0gW"
local ids, filler, prefix, suffix = {}, nil, nil, nil

function init(args)
  for id in string.gmatch(os.getenv("BENCH_DOWNLOAD_IDS"), "%d+") do table.insert(ids, id) end
  local size = tonumber(os.getenv("BENCH_FILE_BYTES"))
  local parts = {}
  math.randomseed(tid * 104729)
  for i = 1, math.floor(size / 4) do parts[i] = string.char(math.random(0, 255), math.random(0, 255), math.random(0, 255), math.random(0, 255)) end
  filler = table.concat(parts)
  wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
  prefix = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"portalId\"\r\n\r\n1\r\n" ..
           "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"clientName\"\r\n\r\nSoak\r\n"
  suffix = "\r\n--" .. boundary .. "--\r\n"
end

local pages = { "/dashboard", "/dashboard/files", "download", "/dashboard", "/dashboard/files", "download",
                "upload", "/dashboard/files", "download", "/dashboard" }

function request()
  counter = counter + 1
  local kind = pages[(counter - 1) % #pages + 1]
  if kind == "download" then
    return wrk.format("GET", "/api/uploads/" .. ids[(counter + tid) % #ids + 1] .. "/download")
  elseif kind == "upload" then
    local name = string.format("soak-%d-%d.pdf", tid, counter)
    local head = "%PDF-1.7\n% " .. name .. "\n"
    local body = prefix .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" .. name ..
                 "\"\r\nContent-Type: application/pdf\r\n\r\n" .. head .. string.sub(filler, 1, #filler - #head) .. suffix
    -- Headers given to wrk.format replace wrk.headers: the cookie goes along again.
    return wrk.format("POST", "/api/upload", { ["Cookie"] = wrk.headers["Cookie"], ["X-CSRF-Token"] = os.getenv("BENCH_CSRF"),
                                               ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body)
  end
  return wrk.format("GET", kind)
end
