"""The API contract check: a live Intake (the real `intake serve` behind the development nginx, as
Tests/Browser/conftest.py starts it) with the demo accounts of `intake demo-seed`, signed in as
the demo owner, and schemathesis run against its own `/api/openapi.json`.

Run by scripts/api-contract, which installs schemathesis; arguments after the script's name go to
`schemathesis run` as they are (e.g. `--seed 7`, `--max-examples 300`).
"""
import base64
import http.cookiejar
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("INTAKE_BIN", str(ROOT / ".build" / "debug" / "intake"))
ARTIFACTS = pathlib.Path(os.environ.get("INTAKE_ARTIFACTS", ROOT / "artifacts"))

# What schemathesis checks of every answer: no 5xx, a documented status, the documented content
# type, headers and body schema, and 405 with Allow for a method an address does not take.
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "unsupported_method",
])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    """`intake migrate`, `intake demo-seed`, then `intake serve` and nginx on a free loopback port."""

    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="intake-contract-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ,
                        INTAKE_HOME=self.home,
                        INTAKE_LISTEN=f"{self.home}/intake.sock",
                        INTAKE_HTTP_PORT=str(self.port),
                        INTAKE_BASE_URL=self.url,
                        INTAKE_WORKERS="2",
                        INTAKE_THREADS="4",
                        INTAKE_PUBLIC_DIR=str(ROOT / "public"),
                        INTAKE_TEMPLATES_DIR=str(ROOT / "templates"))
        nginx_dir = pathlib.Path(self.home, "nginx")
        (nginx_dir / "logs").mkdir(parents=True)
        (nginx_dir / "tmp").mkdir()
        conf = self.intake("nginx-config", "--template", str(ROOT / "nginx" / "intake.dev.conf"))
        (nginx_dir / "nginx.conf").write_text(conf)
        shutil.copy(ROOT / "nginx" / "fastcgi_params.conf", nginx_dir)
        self.intake("migrate")
        self.intake("demo-seed")
        self.log = open(pathlib.Path(self.home, "serve.log"), "w")
        self.serve = subprocess.Popen([BINARY, "serve"], env=self.env, stdout=self.log, stderr=self.log)
        self.nginx = subprocess.Popen(["nginx", "-p", f"{nginx_dir}/", "-c", str(nginx_dir / "nginx.conf"), "-e", "logs/error.log"],
                                      env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline or self.serve.poll() is not None:
                raise RuntimeError("Intake did not start:\n" + pathlib.Path(self.home, "serve.log").read_text())
            time.sleep(0.1)

    def intake(self, *args):
        return subprocess.run([BINARY, *args], env=self.env, check=True, capture_output=True, text=True).stdout

    def password(self, role):
        """The demo `admin`'s or `user`'s password from `intake demo-seed`."""
        for line in pathlib.Path(self.home, "demo-credentials.txt").read_text().splitlines():
            if line.split()[:1] == [role]:
                return line.split()[-1]
        raise RuntimeError(f"demo-credentials.txt names no {role}")

    def stop(self):
        self.nginx.terminate()
        self.serve.terminate()
        self.nginx.wait(timeout=30)
        self.serve.wait(timeout=60)
        self.log.close()
        logs = ARTIFACTS / "api-contract"
        logs.mkdir(parents=True, exist_ok=True)
        shutil.copy(pathlib.Path(self.home, "serve.log"), logs / "serve.log")
        shutil.copy(pathlib.Path(self.home, "nginx", "logs", "error.log"), logs / "nginx-error.log")
        shutil.rmtree(self.home, ignore_errors=True)


class User:
    """A demo user signed in through the sign-in form: the session cookie and its CSRF token."""

    def __init__(self, url, email, password):
        self.url = url
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = self.opener.open(url + "/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
        self.opener.open(url + "/login", data=form).read()
        self.session = next((c.value for c in jar if c.name == "intake_session"), None)
        if not self.session:
            raise RuntimeError(f"could not sign in as {email}")
        # The session's own token, as every signed-in page carries it.
        dashboard = self.opener.open(url + "/dashboard").read().decode()
        self.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', dashboard).group(1)

    def post_form(self, path, fields):
        """A form post from a page of the site, as a browser sends it (the token as `csrf_token`)."""
        form = urllib.parse.urlencode({"csrf_token": self.csrf, **fields}).encode()
        with self.opener.open(urllib.request.Request(self.url + path, data=form, headers={"Accept": "application/json"})) as r:
            return r.status

    def request(self, method, path, body=None, headers=None):
        h = {"Cookie": f"intake_session={self.session}", "X-CSRF-Token": self.csrf, **(headers or {})}
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=h)
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()

    def upload(self, portal_id, name, content):
        """The file's id and its receipt token."""
        boundary = "contract-boundary"
        parts = [("portalId", None, str(portal_id).encode()), ("clientName", None, b"Contract Client"), ("file", name, content)]
        body = b""
        for field, filename, value in parts:
            disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
            body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        _, _, answer = self.request("POST", "/api/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        first = json.loads(answer)["files"][0]
        return first["uploadId"], first["receipt"]

    def tus_create(self, portal_id, length):
        metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                            [("portalId", str(portal_id)), ("filename", "contract.txt"), ("filetype", "text/plain"),
                             ("clientName", "Contract Client")])
        _, headers, _ = self.request("POST", "/api/tus", b"", {"Tus-Resumable": "1.0.0", "Upload-Length": str(length),
                                                                "Upload-Metadata": metadata})
        return headers["Location"].rsplit("/", 1)[1]


def main(extra):
    venv_bin = pathlib.Path(sys.executable).parent
    subprocess.run([str(venv_bin / "openapi-spec-validator"), str(ROOT / "public" / "openapi.json")], check=True)
    instance = Instance()
    try:
        owner = User(instance.url, "owner@example.com", instance.password("user"))
        # Storage for sale and a balance to buy it with, so that purchases get past 503 no_pricing.
        admin = User(instance.url, "admin@example.com", instance.password("admin"))
        admin.post_form("/admin/storage/pricing", {
            "price_per_gb": "0.50", "currency": "USD", "min_gb": "1", "max_gb": "100", "validity_days": "30",
            "free_storage_number": "5", "free_storage_unit": "GB", "over_quota_policy": "block"})
        users = admin.opener.open(instance.url + "/admin/users?q=owner%40example.com").read().decode()
        # The one user the search finds: their row's name links to their page.
        owner_id = re.search(r'<a href="/admin/users/([0-9]+)">[^<]*</a></td>\s*<td data-label="E-mail">owner@example\.com</td>', users).group(1)
        admin.post_form(f"/admin/users/{owner_id}/balance", {"amount": "20.00", "direction": "credit", "reason": "API contract run"})
        # Records to aim at, so that operations on one record reach past 404: the demo portal,
        # files received through it and unfinished resumable uploads; the deleting operations get
        # records of their own, so the others still find theirs.
        _, _, portals = owner.request("GET", "/api/portals")
        portal_id = json.loads(portals)[0]["id"]
        files, receipts = zip(*[owner.upload(portal_id, f"seed-{i}.txt", f"contract seed file {i}\n".encode()) for i in range(8)])
        tus = [owner.tus_create(portal_id, 64) for _ in range(8)]
        (ARTIFACTS / "api-contract").mkdir(parents=True, exist_ok=True)
        env = dict(os.environ,
                   SCHEMATHESIS_HOOKS="api_contract_hooks",
                   PYTHONPATH=str(ROOT / "scripts" / "lib") + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   INTAKE_CONTRACT_PORTALS=portal_id, INTAKE_CONTRACT_RECEIPTS=",".join(receipts),
                   INTAKE_CONTRACT_FILES=",".join(files[:4]), INTAKE_CONTRACT_FILES_TO_DELETE=",".join(files[4:]),
                   INTAKE_CONTRACT_TUS=",".join(tus[:4]), INTAKE_CONTRACT_TUS_TO_DELETE=",".join(tus[4:]))
        command = [str(venv_bin / "schemathesis"), "run", f"{instance.url}/api/openapi.json",
                   "--checks", CHECKS,
                   "--max-examples", os.environ.get("API_CONTRACT_MAX_EXAMPLES", "100"),
                   "--seed", os.environ.get("API_CONTRACT_SEED", "1"),
                   "--workers", "1",
                   "--request-timeout", "30",
                   "--suppress-health-check", "too_slow,filter_too_much",
                   "-H", f"Cookie: intake_session={owner.session}",
                   "-H", f"X-CSRF-Token: {owner.csrf}",
                   "--report", "junit", "--report-junit-path", str(ARTIFACTS / "api-contract" / "junit.xml"),
                   *extra]
        print("api-contract:", " ".join(c if "intake_session=" not in c and owner.csrf not in c else c.split(":")[0] + ": …" for c in command),
              flush=True)
        # Run from the artifacts folder: schemathesis keeps its example database in the working directory.
        return subprocess.run(command, env=env, cwd=ARTIFACTS / "api-contract").returncode
    finally:
        instance.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
