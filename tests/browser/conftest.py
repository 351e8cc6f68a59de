"""Real-browser tests: a live `flask run` server in a subprocess, driven by Debian's Chromium
through Playwright.

No browser is ever downloaded (never run `playwright install`): Playwright launches the system
Chromium at /usr/bin/chromium (`apt-get install -y chromium`; `scripts/test.sh` does it as root).
The server runs without a broker, so its tasks run in process, on a migrated SQLite app database
and a generated demo legacy SQLite database, both in a temporary directory.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from app.legacy_import.demo import generate_legacy_database

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
CHROMIUM = Path("/usr/bin/chromium")
# The machine's network is closed: without the background-networking flags Chromium stalls on
# refused connections (updates, sync, safe browsing...).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LEGACY_ROWS = 600
PASSWORD = "correct horse battery staple"
ACCOUNTS = {
    "administrator": "admin@ecoin.test",
    "reviewer": "reviewer@ecoin.test",
    "viewer": "viewer@ecoin.test",
}
TIMEOUT_MS = 10_000  # Playwright's auto-waiting bound for every action and `expect`
SERVER_START_SECONDS = 30
# Settings of the developer's shell or `.env` that must not reach the server.
INHERITED = re.compile(r"^(LEGACY_|FLASK_|CELERY_)|^(DATABASE_URL|SECRET_KEY|SESSION_COOKIE_SECURE)$")

expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    database_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no server log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def server_env(database_url: str, legacy_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not INHERITED.search(key)}
    env.update(
        FLASK_APP="wsgi",
        FLASK_DEBUG="0",
        DATABASE_URL=database_url,
        LEGACY_DATABASE_URL=legacy_url,
        SESSION_COOKIE_SECURE="0",  # plain HTTP on loopback
        SECRET_KEY=secrets.token_hex(32),
        # Set and empty: no broker (tasks run in process), and a `.env` cannot bring one back.
        CELERY_BROKER_URL="",
        LEGACY_COLUMN_MAP="",
        PYTHONUNBUFFERED="1",
    )
    return env


def flask_command(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    result = subprocess.run(
        [str(FLASK), *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        pytest.fail(f"`flask {args[0]} {args[1]}` failed ({result.returncode}): {result.stderr[-2000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(server: LiveServer, process: subprocess.Popen[bytes]) -> bool:
    """True once the sign-in page answers; False if the server exited (e.g. the port was taken)."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{server.base_url}/login", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    stop(process)
    pytest.fail(f"the live server did not answer in {SERVER_START_SECONDS} s:\n{server.log_tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_server(
    env: dict[str, str], database_url: str, log_path: Path
) -> tuple[subprocess.Popen[bytes], LiveServer]:
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(FLASK), "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, LiveServer(f"http://127.0.0.1:{port}", database_url, log_path)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`flask run` on a free loopback port, migrated with `flask db upgrade`, with one staff
    account per role created by `flask users create` (password on stdin)."""
    workdir = tmp_path_factory.mktemp("live-server")
    database_url = f"sqlite:///{workdir / 'app.sqlite'}"
    legacy_url = f"sqlite:///{workdir / 'legacy.sqlite'}"
    env = server_env(database_url, legacy_url)
    upgrade = subprocess.Popen(
        [str(FLASK), "db", "upgrade"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        generate_legacy_database(legacy_url, LEGACY_ROWS)  # while the migrations run
        _, error = upgrade.communicate(timeout=120)
    finally:
        stop(upgrade)
    if upgrade.returncode != 0:
        pytest.fail(
            f"`flask db upgrade` failed ({upgrade.returncode}): {error.decode(errors='replace')[-2000:]}"
        )

    process, server = start_server(env, database_url, workdir / "server.log")
    try:
        for role, email in ACCOUNTS.items():  # one at a time (SQLite), while the server boots
            flask_command(
                env,
                "users",
                "create",
                f"--email={email}",
                "--password-stdin",
                f"--role={role}",
                stdin=PASSWORD + "\n",
            )
        attempts = 1
        while not wait_until_up(server, process):  # another process took the free port first?
            if attempts == 3:
                pytest.fail(f"the live server would not start:\n{server.log_tail()}")
            process, server = start_server(env, database_url, server.log_path)
            attempts += 1
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="session")
def app_db(live_server: LiveServer) -> Iterator[sa.Engine]:
    """The live server's app database, to arrange data and check what the pages saved."""
    engine = sa.create_engine(live_server.database_url, connect_args={"timeout": 30})
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (`apt-get install -y chromium`; "
            "`scripts/test.sh` does it when run as root). Never `playwright install`."
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000
        )
        yield launched
        launched.close()


REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def open_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[[str | None], Page]]:
    """`open_page(role)`: a page in a fresh browser context (its own cookies), signed in through
    the form as `role`, or signed out with None. A failing test leaves a screenshot of each page
    in test-artifacts/screenshots/failures/ and prints the end of the server's log; a test whose
    pages logged a script error or a Content-Security-Policy refusal fails."""
    contexts: list[BrowserContext] = []
    script_errors: list[str] = []

    def console_error(kind: str, text: str) -> None:
        # A refused inline script or style (CSP) or a script error; HTTP error statuses
        # ("Failed to load resource") are the tests' own business (401, 403, favicon 404).
        if kind == "error" and not text.startswith("Failed to load resource"):
            script_errors.append(text)

    def make(role: str | None) -> Page:
        context = browser.new_context(
            base_url=live_server.base_url, viewport={"width": 1280, "height": 800}, locale="fr-FR"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: console_error(message.type, message.text))
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        if role is not None:
            sign_in(page, role)
        return page

    yield make
    failed = any(report.failed for report in request.node.stash.get(REPORTS, {}).values())
    for number, context in enumerate(contexts):
        if failed:
            for page in context.pages:
                shoot(page, f"failures/{request.node.name}-{number}")
        context.close()
    if failed:
        print(f"live server log ({live_server.log_path}), last lines:\n{live_server.log_tail()}")
    elif script_errors:
        pytest.fail(f"errors in the browser console: {script_errors[:5]}")


def sign_in(page: Page, role: str) -> None:
    page.goto("/login")
    page.get_by_label("Adresse e-mail").fill(ACCOUNTS[role])
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()


def shoot(page: Page, name: str) -> Path:
    """A full-page PNG under test-artifacts/screenshots/ (git-ignored)."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
