"""Reads `wrk --latency` output on stdin; prints the median and p99 latency in ms and req/s."""
import re
import sys

text = sys.stdin.read()


def ms(label):
    m = re.search(r"^\s*" + re.escape(label) + r"\s+([0-9.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        sys.exit("wrk_latency: no %s line in wrk's output:\n%s" % (label, text))
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", text)
if errors:
    sys.exit("wrk_latency: %s responses were errors" % errors.group(1))
print("%.2f %.2f %.0f" % (ms("50%"), ms("99%"), rps))
