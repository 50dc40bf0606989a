"""Browser tests: the real `intake serve` behind a real nginx, driven by headless Chromium.

The server is started the way `scripts/serve` starts it (the development nginx config rendered
by `intake nginx-config`), on a free loopback port with a temporary INTAKE_HOME.
"""
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("INTAKE_BIN", str(ROOT / ".build" / "debug" / "intake"))
ARTIFACTS = pathlib.Path(os.environ.get("INTAKE_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="intake-browser-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ,
                        INTAKE_HOME=self.home,
                        INTAKE_LISTEN=f"{self.home}/intake.sock",
                        INTAKE_HTTP_PORT=str(self.port),
                        INTAKE_BASE_URL=self.url,
                        INTAKE_WORKERS="2",
                        INTAKE_THREADS="4",
                        # Files above 4 MiB go resumable from the portal page, in 512 KiB chunks.
                        INTAKE_TUS_THRESHOLD_KIB="4096",
                        INTAKE_TUS_CHUNK_KIB="512",
                        INTAKE_PUBLIC_DIR=str(ROOT / "public"),
                        INTAKE_TEMPLATES_DIR=str(ROOT / "templates"))
        nginx_dir = pathlib.Path(self.home, "nginx")
        (nginx_dir / "logs").mkdir(parents=True)
        (nginx_dir / "tmp").mkdir()
        conf = subprocess.run([BINARY, "nginx-config", "--template", str(ROOT / "nginx" / "intake.dev.conf")],
                              env=self.env, check=True, capture_output=True, text=True).stdout
        (nginx_dir / "nginx.conf").write_text(conf)
        shutil.copy(ROOT / "nginx" / "fastcgi_params.conf", nginx_dir)
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

    def create_user(self, email, name, role="user", password=PASSWORD):
        subprocess.run([BINARY, "admin", "create", "--email", email, "--name", name, "--role", role],
                       input=password + "\n", env=self.env, check=True, capture_output=True, text=True)

    def stop(self):
        self.nginx.terminate()
        self.serve.terminate()
        self.nginx.wait(timeout=30)
        self.serve.wait(timeout=60)
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


def own_server():
    """A server of one test module's own (`server = module_server()` in the module): the users
    and files its tests make do not change the counts other modules' pages show."""
    s = Server()
    yield s
    s.stop()


def module_server():
    """The `server` fixture of a module that wants a server of its own."""
    def server():
        yield from own_server()
    return pytest.fixture(scope="module", name="server")(server)


@pytest.fixture(scope="session")
def server():
    s = Server()
    s.create_user("admin@example.com", "Ada Admin", role="admin")
    s.create_user("owner@example.com", "Olive Owner")
    yield s
    s.stop()


def make_driver(width=1280, height=900, javascript=True):
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=en-US"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    # The driver from Debian's chromium-driver: never let Selenium try to download one.
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    if width < 500:
        # Headless Chromium keeps a window at least ~500 px wide: emulate the phone's viewport.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
    driver.implicitly_wait(5)
    return driver


@pytest.fixture
def browser():
    driver = make_driver()
    yield driver
    driver.quit()


@pytest.fixture
def phone():
    driver = make_driver(width=390, height=844)
    yield driver
    driver.quit()


def screenshot(driver, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
