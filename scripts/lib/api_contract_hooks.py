"""schemathesis hooks for scripts/api-contract (loaded through SCHEMATHESIS_HOOKS).

- `application/offset+octet-stream`, tus's chunk type, is generated as bytes.
- Ids generated for a path or a field are, about two times in three, replaced by a record that
  exists (the demo portal, files received through it and their receipts, unfinished tus uploads: their ids come in
  INTAKE_CONTRACT_*; DELETE gets records of its own), so operations on one record are tested past
  their 404; so are `Upload-Metadata` of tus creations (the demo portal's). The choice depends only
  on the generated value, so a failing case shrinks and replays as it was found.
- A failure is dropped only for a documented deliberate 5xx (`filter_failure` below says which)
  and for nginx's 405 to TRACE.
"""
import atexit
import base64
import collections
import json
import os
import sys
import zlib

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.failures import ServerError
from schemathesis.openapi.checks import UnsupportedMethodResponse

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=256))

def ids(name):
    return [i for i in os.environ.get(name, "").split(",") if i]


PORTALS = ids("INTAKE_CONTRACT_PORTALS")
FILES, FILES_TO_DELETE = ids("INTAKE_CONTRACT_FILES"), ids("INTAKE_CONTRACT_FILES_TO_DELETE")
TUS, TUS_TO_DELETE = ids("INTAKE_CONTRACT_TUS"), ids("INTAKE_CONTRACT_TUS_TO_DELETE")
RECEIPTS = ids("INTAKE_CONTRACT_RECEIPTS")


def known(generated, records):
    """A record for two generated values in three, chosen by the value itself; else the value."""
    if not records:
        return generated
    h = zlib.crc32(repr(generated).encode())
    return records[h // 3 % len(records)] if h % 3 else generated


def metadata(portal):
    pairs = [("portalId", portal), ("filename", "contract.txt"), ("filetype", "text/plain"), ("clientName", "Contract Client")]
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs)


@schemathesis.hook
def map_case(context, case):
    path = case.operation.path
    params = case.path_parameters or {}
    deleting = case.method.upper() == "DELETE"
    if "id" in params:
        if path.startswith("/api/tus/"):
            params["id"] = known(params["id"], TUS_TO_DELETE if deleting else TUS)
        elif path.startswith("/api/uploads/"):
            params["id"] = known(params["id"], FILES_TO_DELETE if deleting else FILES)
        elif path.startswith("/api/portals/"):
            params["id"] = known(params["id"], PORTALS)
    if "token" in params and path.startswith("/api/receipts/"):
        params["token"] = known(params["token"], RECEIPTS)
    if path == "/api/upload" and isinstance(case.body, dict) and "portalId" in case.body:
        case.body["portalId"] = known(case.body["portalId"], PORTALS)
    if path == "/api/tus" and case.method.upper() == "POST" and case.headers and "Upload-Metadata" in case.headers and PORTALS:
        if known(case.headers["Upload-Metadata"], [None]) is None:
            case.headers["Upload-Metadata"] = metadata(PORTALS[0])
    return case


# The API's deliberate 5xx answers, each documented for its operations: the service cannot do this
# now, for a reason outside the request (no pricing set, the portal switched off, the scanner or a
# provider unreachable or refusing). Only these are not counted as server errors; a crash (500
# `internal_error`, the tus append's 500) and nginx's own 502/503/504 (`unavailable`, `timeout`:
# no worker answered) still are.
DELIBERATE_5XX = {"no_pricing", "portal_closed", "scanner_unavailable", "storage_failed", "provider_unavailable",
                  "provider_refused", "busy"}


def deliberate_5xx(case, response):
    """The deliberate refusal's name (its code, or the tus refusal's text), or None."""
    if response.status_code not in (502, 503):
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if content_type.startswith("text/plain") and case.operation.path.startswith("/api/tus"):
        # A tus refusal (UploadRefusal: portal closed, scanner down, storage failed); nginx answers JSON.
        return response.content.decode(errors="replace").strip()[:60]
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if code in DELIBERATE_5XX else None


# What was not counted, said at the end of the run, so nothing is dropped unseen.
dropped = collections.Counter()
atexit.register(lambda: dropped and print("api-contract: not counted as failures: " +
                                          "; ".join(f"{n} × {what}" for what, n in dropped.most_common()), file=sys.stderr))


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keep every failure but a documented deliberate 5xx, and nginx's 405 to TRACE.

    nginx refuses TRACE itself, before any location is chosen, so no worker sees it and the
    answer cannot list the path's methods in `Allow`; every other undeclared method reaches the
    router, which answers 405 with `Allow`.
    """
    if isinstance(failure, ServerError) and (why := deliberate_5xx(case, response)):
        dropped[f"{response.status_code} {why} ({case.method.upper()} {case.operation.path})"] += 1
        return False
    if isinstance(failure, UnsupportedMethodResponse) and failure.method == "TRACE" and failure.status_code == 405:
        dropped["405 without Allow from nginx to TRACE"] += 1
        return False
    return True
