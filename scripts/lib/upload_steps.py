"""Where one multipart upload's time goes in the worker, from `perf trace` of its file system calls.

Usage: upload_steps.py TRACE_FILE CURL_SECONDS SIZE_BYTES

Reads the output of `perf trace -e openat,close,fsync,fdatasync,link,rename,unlink -p WORKERS`
taken around one upload (scripts/bench upload) and prints one line: the time from the spool's
creation to its fsync (receiving the body through nginx and FastCGI, parsing the multipart,
hashing and writing the spool), the spool's fsync, the store (recording the row, moving the spool
to deliveries, linking it into local-disk storage and syncing that folder), the read-back of the
stored file (its open to its close; absent when nothing was read back), the rest of delivery
(recording it, removing the spool) and what curl measured outside all that (request and answer).
The calls are told apart by order and flags on the thread that created the spool, since perf
trace shows paths only as pointers.
"""
import re
import sys

trace_path, curl_seconds, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
line_re = re.compile(r"^\s*([0-9.]+) \(\s*([0-9.]+) ms\): \S+/(\d+) (\w+)\((.*)\)\s+= (-?\d+)")
events = []
for line in open(trace_path, errors="replace"):
    m = line_re.match(line)
    if m:
        t, dur, tid, call, args, result = m.groups()
        events.append((float(t), float(dur), tid, call, args, int(result)))

spool = next((e for e in events if e[3] == "openat" and "CREAT|EXCL" in e[4] and "RDWR" in e[4] and e[5] >= 0), None)
if spool is None:
    sys.exit("upload_steps: no spool file was created in the trace")
tid, start = spool[2], spool[0]
mine = [e for e in events if e[2] == tid and e[0] >= start]


def first(call, after, test=lambda e: True):
    return next((e for e in mine if e[3] == call and e[0] > after and test(e)), None)


fsync = first("fsync", start, lambda e: e[5] == 0)
if fsync is None:
    sys.exit("upload_steps: the spool was never fsynced")
fsync_end = fsync[0] + fsync[1]
link = first("link", fsync_end, lambda e: e[5] == 0) or first("linkat", fsync_end, lambda e: e[5] == 0)
removed = first("unlink", fsync_end, lambda e: e[5] == 0)
if link is None or removed is None:
    sys.exit("upload_steps: no link into storage, or no removal of the spool, after the fsync")
readback = first("openat", link[0], lambda e: "RDONLY" in e[4] and "DIRECTORY" not in e[4] and e[5] >= 0 and e[0] < removed[0])
readback_ms = 0.0
store_end = removed[0]
if readback is not None:
    closed = first("close", readback[0], lambda e: re.match(r"fd: %d\b" % readback[5], e[4]) is not None)
    if closed is not None and closed[0] < removed[0]:
        readback_ms = closed[0] + closed[1] - readback[0]
        store_end = readback[0]
dir_syncs = sum(e[1] for e in mine if e[3] in ("fsync", "fdatasync") and link[0] < e[0] < removed[0])
receive_ms = fsync[0] - start
store_ms = store_end - fsync_end
rest_ms = removed[0] + removed[1] - store_end - readback_ms
outside_ms = curl_seconds * 1000 - (removed[0] + removed[1] - start)
mb = size / 1e6


def part(name, ms, rate=True):
    took = f"{ms / 1000:.2f} s" if ms >= 100 else f"{ms:.1f} ms"
    return f"{name} {took}" + (f" ({mb / (ms / 1000):.0f} MB/s)" if rate and ms > 0 else "")


print("; ".join([
    part("receive, parse, hash and write the spool", receive_ms),
    part("fsync of the spool", fsync[1]),
    part(f"store (row, move, link, folder fsync {dir_syncs:.1f} ms)", store_ms, rate=False),
    part("read-back of the stored file", readback_ms) if readback_ms > 0 else "no read-back",
    part("record delivery, remove spool", rest_ms, rate=False),
    part("request and answer outside these", max(outside_ms, 0), rate=False),
]))
