"""JupyterLab and headless Chromium for the browser tests (tests/test_browser.py).

A server from this environment on a free loopback port with a random token,
settings of its own (no news pop-up, every cell kept in the page) and nothing
from the user's Jupyter folders; Debian's ``chromium`` driven through its
``chromium-driver`` by Selenium, without Selenium Manager (nothing is downloaded).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

WAIT = float(os.environ.get("DLCOURSE_BROWSER_WAIT", "240"))  # seconds: generous, CI has 2 slow cores
ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "browser-artifacts"
# The README's screenshots (docs/screenshots/) are README-sized copies of some steps' screenshots. They are
# written there only when asked (DLCOURSE_SCREENSHOTS=docs/screenshots), so `make test` leaves the checkout clean.
DOCS_SCREENSHOTS = os.environ.get("DLCOURSE_SCREENSHOTS")

CHROMIUM_CANDIDATES = ("chromium", "google-chrome", "chromium-browser")
DRIVER_CANDIDATES = ("chromedriver",)


def browser_binaries() -> tuple[str, str]:
    """Paths of Chromium and its driver; skip without them, except in CI (``CI=true``), where that fails."""
    chromium = next((p for p in map(shutil.which, CHROMIUM_CANDIDATES) if p), None)
    driver = next((p for p in map(shutil.which, DRIVER_CANDIDATES) if p), None)
    if driver is None and os.environ.get("CHROMEWEBDRIVER"):  # GitHub's Ubuntu runners: Chrome and its driver preinstalled
        driver = shutil.which("chromedriver", path=os.environ["CHROMEWEBDRIVER"])
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing = "the selenium package (`make setup`)"
    else:
        missing = "" if chromium and driver else "Debian's chromium and chromium-driver (`make browser`, as root)"
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the browser tests, and they need {missing}", pytrace=False)
        pytest.skip(f"needs {missing}")
    return chromium, driver


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(folder: Path) -> None:
    """User settings of the temporary JupyterLab: no news or update checks, all cells rendered."""
    values = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
        # the default windowing leaves cells far from the viewport out of the page
        # typed code lands as typed: no closing brackets or quotes added by the editor
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
            "windowingMode": "none",
            "codeCellConfig": {"autoClosingBrackets": False, "lineNumbers": False, "lineWrap": False},
        },
    }
    for name, value in values.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


@contextmanager
def jupyter_lab(root_dir: Path, home: Path, log: Path):
    """A JupyterLab server for ``root_dir`` (also its working directory: nbgrader reads its config there).

    Yields ``(base_url, token)``. ``home`` holds its own settings, workspaces and runtime files.
    """
    token = secrets.token_hex(16)
    port = free_port()
    _settings(home / "settings")
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_PLATFORM_DIRS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    env.pop("MPLBACKEND", None)  # conftest sets Agg; a student's kernel draws inline
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root; JupyterLab refuses to without it
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=root_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + WAIT
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer within {WAIT:.0f} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            yield base, token
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def chromium_driver(chromium: str, driver: str, log: Path, width: int = 1280, height: int = 900):
    """Headless Chromium through Debian's chromedriver (explicit paths: Selenium Manager is never asked)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.add_argument("--no-first-run")
    browser = webdriver.Chrome(service=Service(executable_path=driver, log_output=str(log)), options=options)
    browser.set_page_load_timeout(WAIT)
    return browser


def wait(browser, condition, timeout: float = WAIT, message: str = ""):
    """``WebDriverWait(...).until(condition)``: an explicit wait with a generous limit."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.25).until(condition, message)


def shot(browser, folder: Path, name: str, element=None, docs_name: str | None = None) -> Path:
    """A PNG of the page (or of one element) in ``folder``.

    With ``docs_name``, also a README-sized copy: ``folder/readme_<docs_name>.png``, or
    ``$DLCOURSE_SCREENSHOTS/<docs_name>.png`` when that is set (the README shows ``docs/screenshots/``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if element is not None:
        element.screenshot(str(path))
    else:
        browser.save_screenshot(str(path))
    if docs_name:
        target = Path(DOCS_SCREENSHOTS) / f"{docs_name}.png" if DOCS_SCREENSHOTS else folder / f"readme_{docs_name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        small_copy(path, target)
    return path


def small_copy(source: Path, target: Path, max_width: int = 1000, max_bytes: int = 200_000) -> Path:
    """A README-sized copy of a screenshot: at most ``max_width`` pixels wide, palette PNG under ``max_bytes``."""
    from PIL import Image

    image = Image.open(source).convert("RGB")
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.LANCZOS)
    for colours in (256, 128, 64):
        image.quantize(colours).save(target, optimize=True)
        if target.stat().st_size < max_bytes:
            break
    return target


class NotebookPage:
    """The notebook open in JupyterLab: its cells by index, run and typed into as a student does it."""

    CELLS = ".jp-Notebook .jp-Cell"

    def __init__(self, browser):
        self.browser = browser

    def wait_ready(self, n_cells: int) -> None:
        """Wait until every cell is in the page and the kernel has started and is idle.

        JupyterLab draws the panel (with an "idle" indicator) before the notebook and its kernel are loaded.
        """
        from selenium.webdriver.common.by import By

        def ready(browser):
            cells = browser.find_elements(By.CSS_SELECTOR, self.CELLS)
            status = browser.find_elements(By.CSS_SELECTOR, ".jp-StatusBar-Widget .jp-StatusBar-TextItem")
            return len(cells) == n_cells and any(t.text.strip().endswith("| Idle") for t in status)

        wait(self.browser, ready, message=f"the notebook did not load {n_cells} cells with an idle kernel")

    def cell(self, index: int):
        from selenium.webdriver.common.by import By

        return self.browser.find_elements(By.CSS_SELECTOR, self.CELLS)[index]

    def prompt(self, index: int) -> str:
        from selenium.webdriver.common.by import By

        return self.cell(index).find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text.strip()

    def source(self, index: int) -> str:
        from selenium.webdriver.common.by import By

        return self.cell(index).find_element(By.CSS_SELECTOR, ".cm-content").text

    def output(self, index: int) -> str:
        from selenium.webdriver.common.by import By

        return self.cell(index).find_element(By.CSS_SELECTOR, ".jp-Cell-outputWrapper").text

    def errors(self, index: int) -> str:
        """The cell's error or stderr output (a traceback renders as stderr text)."""
        from selenium.webdriver.common.by import By

        found = self.cell(index).find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        return "\n".join(e.text for e in found)

    def show(self, index: int, block: str = "center") -> None:
        self.browser.execute_script("arguments[0].scrollIntoView({block: arguments[1]});", self.cell(index), block)

    def select(self, index: int) -> None:
        """Select the cell in command mode (a click on its prompt, as on the left of a cell)."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By

        self.show(index)
        ActionChains(self.browser).click(self.cell(index).find_element(By.CSS_SELECTOR, ".jp-InputPrompt")).perform()

    def run(self, index: int) -> None:
        """Ctrl+Enter on the cell, then wait until its prompt shows a new execution count."""
        import re

        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        before = self.prompt(index)
        self.select(index)
        ActionChains(self.browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()

        def finished(_):
            now = self.prompt(index)
            return now != before and re.fullmatch(r"\[\d+\]:", now)

        wait(self.browser, finished, message=f"cell {index} did not finish running (prompt {self.prompt(index)!r})")

    def type_code(self, index: int, code: str) -> None:
        """Replace the cell's text by typing ``code`` key by key.

        The editor indents a new line itself; each line first selects that
        indentation (Shift+Home) so the typed line, with its own indentation,
        replaces it. Brackets and quotes the editor closes are typed over.
        """
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.show(index)
        self.cell(index).find_element(By.CSS_SELECTOR, ".cm-content").click()
        keys = ActionChains(self.browser)
        keys.key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.DELETE)
        for number, line in enumerate(code.rstrip("\n").split("\n")):
            if number:
                keys.send_keys(Keys.ENTER)
            keys.key_down(Keys.SHIFT).send_keys(Keys.HOME).key_up(Keys.SHIFT)
            keys.send_keys(line if line.strip() else Keys.DELETE)
        keys.send_keys(Keys.ESCAPE)
        keys.perform()
