"""The explorer in a real JupyterLab, driven by the system Chromium through Playwright: start a
JupyterLab server on 127.0.0.1 (a free port, a token) in a temporary root with a copy of
notebook 07 and the samples, open the notebook, run all cells, drag the objective slider and
check that the budget figure the page shows changes. Screenshots of the two settings go to
tests/artifacts/ (git-ignored). Skips with a reason where Chromium or Playwright is missing."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SAMPLES, require_tool

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore_browser")]

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAB_CONFIG = """
c.ServerApp.port_retries = 0
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
c.LabServerApp.user_settings_dir = {settings!r}
c.LabServerApp.workspaces_dir = {workspaces!r}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A JupyterLab server over a copy of notebook 07 and the samples; stopped by its PID."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is in the dev extra (make install)")
    base = tmp_path_factory.mktemp("lab")
    root, config = base / "root", base / "config"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "07_explore.ipynb", root / "notebooks" / "07_explore.ipynb")
    shutil.copytree(SAMPLES, root / "data" / "samples", ignore=shutil.ignore_patterns("requests_1d.csv.gz"))
    config.mkdir()
    notification = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text('{"fetchNews": "false", "checkForUpdates": false}')  # no news prompt, no network
    port, token = _free_port(), secrets.token_hex(16)
    (config / "jupyter_lab_config.py").write_text(
        LAB_CONFIG.format(settings=str(base / "settings"), workspaces=str(base / "workspaces"))
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "IPYTHONDIR": str(base / "ipython"),
        "MPLCONFIGDIR": str(base / "mpl"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (base / "lab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/api/status?token={token}", proc, base / "lab.log")
        _start_kernel(url, token, "notebooks/07_explore.ipynb")
        yield {"url": url, "token": token, "root": root, "log": base / "lab.log"}
    finally:
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


def _wait_for(status_url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer within 90 s: {log.read_text()[-2000:]}")


def _api(url: str, token: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read() or b"null")


def _start_kernel(url: str, token: str, path: str) -> None:
    """The notebook's session and kernel, started through the REST API before the page opens
    it: JupyterLab then attaches to that kernel (no kernel choice dialog on a busy machine)."""
    body = {"path": path, "name": Path(path).name, "type": "notebook", "kernel": {"name": "python3"}}
    kernel = _api(f"{url}/api/sessions", token, "POST", body)["kernel"]["id"]
    state = _api(f"{url}/api/kernels/{kernel}", token).get("execution_state")
    assert state in ("starting", "idle", "busy"), state


#: Page errors of JupyterLab's own kernel connection, not of the explorer: on a loaded machine the
#: frontend's kernel-subshell handshake (ipykernel 7 advertises subshells; srekit never asks for one)
#: can be cancelled when the connection it was made on is replaced, and JupyterLab leaves that
#: rejection unhandled. Seen twice in CI-like runs under load; every other page error still fails.
JUPYTERLAB_NOISE = re.compile(r"^Error: Canceled future for create_subshell_request message before replies were done$")


def _budget_used(page: Any) -> str:
    """The 'Budget used now' figure of the explorer's headline table, as the page shows it."""
    row = page.locator(".srekit-explore tr", has_text="Budget used now").first
    return str(row.locator("td").nth(1).inner_text()).strip()


def test_explorer_in_jupyterlab_reacts_to_the_objective_slider(lab: dict[str, object]) -> None:
    chromium = require_tool("chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra (make install)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = f"{lab['url']}/lab/tree/notebooks/07_explore.ipynb?token={lab['token']}"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url, timeout=120_000)
            explorer = _run_until_the_explorer_shows(page, lab)
            page.locator(".srekit-explore tr", has_text="Budget used now").first.wait_for(timeout=60_000)
            before = _budget_used(page)
            assert re.fullmatch(r"\d+\.\d%", before), before
            assert page.locator(".srekit-explore-static").first.is_hidden(), "the live widget hides the static copy"
            explorer.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explore_lab_initial.png"), full_page=False)
            handle = page.locator(".srekit-explore .widget-slider .noUi-handle").first
            _drag(page, handle, dx=-60)
            page.wait_for_function(
                """(before) => {
                    const row = [...document.querySelectorAll('.srekit-explore tr')]
                        .find(r => r.innerText.includes('Budget used now'));
                    return row && row.querySelectorAll('td')[1].innerText.trim() !== before;
                }""",
                arg=before,
                timeout=60_000,
            )
            _idle(page)
            page.wait_for_timeout(500)  # the last update's outputs reach the page
            after = _budget_used(page)
            page.screenshot(path=str(ARTIFACTS / "explore_lab_moved.png"), full_page=False)
            assert after != before and re.fullmatch(r"\d+\.\d%", after), (before, after)
            assert float(after.rstrip("%")) < float(before.rstrip("%")), "a looser objective uses less budget"
            assert not page.locator(".srekit-explore .srekit-message").is_visible()
            _keep_writes_service_yaml(page, lab["root"])  # type: ignore[arg-type]
            assert not [e for e in errors if not JUPYTERLAB_NOISE.search(e)], errors
        finally:
            browser.close()


def _tail(lab: dict[str, object]) -> str:
    return Path(str(lab["log"])).read_text()[-2000:]


def _keep_writes_service_yaml(page: Any, root: Path) -> None:
    """Click "Keep this SLO": the page shows the diff, and the copy's service.yaml holds it."""
    path = root / "data" / "samples" / "service.yaml"
    before = path.read_text()
    page.locator(".srekit-explore button", has_text="Keep this SLO").click()
    diff = page.locator(".srekit-explore pre.srekit-diff")
    diff.wait_for(timeout=60_000)
    after = path.read_text()
    added = [line[1:] for line in diff.inner_text().splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert after != before and added and all(line in after for line in added), (added, after)
    assert "# The raw request log is a separate" in after  # comments kept
    diff.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "explore_lab_kept.png"), full_page=False)


def _run_until_the_explorer_shows(page: Any, lab: dict[str, object]) -> Any:
    """Run All Cells until the explorer is on the page (tried again when the cells ran into a
    kernel that was being replaced; a screenshot and the outputs when it never shows)."""
    explorer = page.locator(".srekit-explore")
    for _ in range(3):
        _run_all_cells(page)
        try:
            explorer.wait_for(state="visible", timeout=120_000)
            return explorer
        except Exception:
            _accept_dialogs(page)
    page.screenshot(path=str(ARTIFACTS / "explore_lab_failure.png"), full_page=False)
    outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
    pytest.fail(f"the explorer did not appear; outputs: {outputs}; server log: {_tail(lab)}")


def _run_all_cells(page: Any) -> None:
    """Run > Run All Cells through JupyterLab's menu once the kernel is idle; tried again when
    no cell started (a click that lands while the application is still starting is lost)."""
    page.locator(".jp-Notebook").wait_for(timeout=120_000)
    _idle(page)
    started = "() => [...document.querySelectorAll('.jp-InputPrompt')].some(e => /\\[[0-9*]+\\]/.test(e.innerText))"
    for _ in range(3):
        _accept_dialogs(page)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(started, timeout=15_000)
            return
        except Exception:  # not started yet: try the menu again
            page.keyboard.press("Escape")
    pytest.fail("Run All Cells did not start any cell")


def _accept_dialogs(page: Any) -> None:
    """Accept a dialog JupyterLab opened (e.g. the kernel choice when the session starts late),
    printing what it said (shown with a failure)."""
    for _ in range(3):
        dialog = page.locator(".jp-Dialog")
        if not dialog.count():
            return
        print("JupyterLab dialog:", " | ".join(dialog.all_inner_texts()))
        dialog.locator(".jp-mod-accept").first.click()
        page.wait_for_timeout(500)


def _idle(page: Any) -> None:
    """Wait until the kernel has worked off every message (a drag queues many)."""
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=120_000)


def _drag(page: Any, handle: Any, *, dx: float) -> None:
    """Press the slider's handle, move it ``dx`` pixels in steps, release it (as a hand does)."""
    box = handle.bounding_box()
    assert box, "the objective slider's handle is not on the page"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=12)
    page.mouse.up()


def test_static_html_of_the_notebook_shows_figures_not_an_empty_widget_box(tmp_path: Path) -> None:
    """`jupyter nbconvert --to html --execute` on notebook 07, opened without a kernel (and
    without network: the widget manager's scripts cannot load): the explorer's starting state is
    there as a table and three charts."""
    chromium = require_tool("chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra (make install)")
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "07_explore.ipynb", tmp_path / "notebooks" / "07_explore.ipynb")
    shutil.copytree(SAMPLES, tmp_path / "data" / "samples", ignore=shutil.ignore_patterns("requests_1d.csv.gz"))
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute", "07_explore.ipynb"],
        cwd=tmp_path / "notebooks",
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    page_file = tmp_path / "notebooks" / "07_explore.html"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2400})
            page.goto(page_file.as_uri(), wait_until="load", timeout=120_000)
            static = page.locator(".srekit-explore-static")
            assert static.is_visible()
            assert "Budget used now" in static.inner_text() and "all page rules" in static.inner_text()
            widths = static.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
            assert len(widths) == 3 and all(w > 300 for w in widths), widths
            static.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explore_static_html.png"), full_page=True)
        finally:
            browser.close()
