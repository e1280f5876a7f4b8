"""Warm kernels (srekit.report.kernels): notebooks run in kernels forked from a preloaded process,
through the real papermill / nbclient / jupyter_client / ipykernel stack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import nbformat
import papermill
import pytest

from srekit.report.kernels import ForkedKernel, KernelZygote, request_kernel, warm_kernel_manager
from srekit.report.kernels import interpreter as kernels_interpreter

pytestmark = pytest.mark.xdist_group("kernels")

KERNEL = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}

PROBE = """
import json, os, sys
import numpy as np
print(json.dumps({
    "pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(),
    "preloaded": "pandas" in sys.modules and "srekit.report.nbshow" in sys.modules,
    "env": os.environ.get("SREKIT_TEST_MARK", ""), "random": float(np.random.random()),
    "sid": os.getsid(0) == os.getpid(), "path": sys.path, "xoptions": sys._xoptions,
}))
"""


def probe_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook(metadata=KERNEL)
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell(PROBE)]
    nbformat.write(nb, str(path))
    return path


def run_probe(src: Path, out: Path, cwd: Path, address: str | None) -> dict[str, object]:
    extra = {} if address is None else {"kernel_manager_class": warm_kernel_manager(address)}
    papermill.execute_notebook(
        str(src),
        str(out),
        cwd=str(cwd),
        progress_bar=False,
        kernel_name="python3",
        shutdown_kernel="immediate",
        **extra,
    )
    text = nbformat.read(str(out), as_version=4).cells[-1].outputs[0]["text"]
    return dict(json.loads(text))


def gone(pid: int, within: float) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if ForkedKernel(pid).poll() is not None:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def zygote() -> KernelZygote:
    with KernelZygote() as z:
        yield z


def test_kernel_is_forked_from_the_preloaded_zygote(
    tmp_path: Path, zygote: KernelZygote, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = probe_notebook(tmp_path / "probe.ipynb")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("SREKIT_TEST_MARK", "from-the-runner")
    first = run_probe(src, tmp_path / "a.ipynb", work, zygote.address)
    second = run_probe(src, tmp_path / "b.ipynb", work, zygote.address)
    assert first["ppid"] == second["ppid"] == zygote.pid  # forked, not started by jupyter_client
    assert first["preloaded"] is True  # pandas and srekit were imported before the first cell
    assert first["cwd"] == second["cwd"] == str(work)  # the requested working folder, not the zygote's
    assert first["env"] == "from-the-runner"  # the kernel gets the caller's environment
    assert first["sid"] is True  # its own session: interrupts go to its process group
    fresh = run_probe(src, tmp_path / "c.ipynb", work, None)
    assert fresh["ppid"] == os.getpid() and fresh["preloaded"] is False
    assert first["path"] == fresh["path"]  # the same import path as ipykernel_launcher's, working folder included
    assert (
        first["xoptions"] == fresh["xoptions"]
    )  # the kernel spec's interpreter options (ipykernel's -Xfrozen_modules=off)
    assert first["random"] != second["random"]  # numpy's global generator is reseeded per kernel
    assert gone(int(first["pid"]), 5) and gone(int(second["pid"]), 5)  # stopped and reaped


def test_fresh_kernel_when_no_zygote_answers(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    src = probe_notebook(tmp_path / "probe.ipynb")
    out = run_probe(src, tmp_path / "a.ipynb", tmp_path, str(tmp_path / "nobody-listens.sock"))
    assert out["ppid"] == os.getpid()  # started the usual way, by this process
    assert out["preloaded"] is False
    assert "starting the kernel the usual way" in capfd.readouterr().err


def test_zygote_refuses_a_malformed_request(zygote: KernelZygote) -> None:
    from srekit.report import kernels

    with pytest.raises(kernels.ZygoteError, match="takes 3 descriptors"):
        request_kernel(zygote.address, ["-f", "/nonexistent.json"], cwd="/", env={}, fds=(1,))  # type: ignore[arg-type]
    read, write = os.pipe()
    try:  # a kernel spec asking for other interpreter options than the zygote was started with
        with pytest.raises(kernels.ZygoteError, match="asked for"):
            request_kernel(
                zygote.address,
                ["-f", "/nonexistent.json"],
                cwd="/",
                env={},
                fds=(1, 2, read),
                interpreter=[sys.executable, "-Xdev"],
            )
    finally:
        os.close(read)
        os.close(write)


def test_zygote_outlives_askers_gone_before_their_answer(zygote: KernelZygote) -> None:
    """Ctrl-C reaches every process of a run: an asker may be gone before the zygote answers.
    The zygote keeps serving (its answer into the closed socket raised, and its traceback landed
    on the run's stderr after ``srekit report: interrupted``)."""
    from srekit.report import kernels

    for _ in range(20):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(zygote.address)
            socket.send_fds(sock, [b'{"interpreter": []}'], [])  # then closed at once, unanswered
    time.sleep(0.5)
    with pytest.raises(kernels.ZygoteError, match="takes 3 descriptors"):  # answered: still serving
        request_kernel(zygote.address, ["-f", "/nonexistent.json"], cwd="/", env={}, fds=(1,))  # type: ignore[arg-type]


def test_interpreter_is_the_kernel_specs() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    argv = KernelSpecManager().get_kernel_spec("python3").argv
    assert kernels_interpreter("python3") == argv[: argv.index("-m")]
    assert kernels_interpreter("no-such-kernel") == [sys.executable]


def test_kernel_exits_when_its_owner_is_gone(tmp_path: Path, zygote: KernelZygote) -> None:
    """A kernel whose requesting process died (e.g. a killed report worker) does not linger."""
    import subprocess

    code = (
        "import sys, json\n"
        "from srekit.report.kernels import request_kernel\n"
        "import os\nr, w = os.pipe()\n"
        "from srekit.report.kernels import interpreter\n"
        f"pid = request_kernel({zygote.address!r}, ['-f', {str(tmp_path / 'k.json')!r}], cwd='/', env={{}}, fds=(1, 2, "
        "r), interpreter=interpreter())\n"
        "print(pid)\n"
    )
    from jupyter_client.connect import write_connection_file

    write_connection_file(str(tmp_path / "k.json"))
    owner = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    pid = int(owner.stdout.strip())
    assert gone(pid, 10)  # its owner exited at once; the kernel noticed within its poll interval


def test_forked_kernel_signals_and_status(zygote: KernelZygote, tmp_path: Path) -> None:
    from jupyter_client.connect import write_connection_file

    write_connection_file(str(tmp_path / "k.json"))
    lifeline, keep = os.pipe()
    pid = request_kernel(
        zygote.address,
        ["-f", str(tmp_path / "k.json")],
        cwd=str(tmp_path),
        env=dict(os.environ),
        fds=(1, 2, lifeline),
        interpreter=kernels_interpreter(),
    )
    kernel = ForkedKernel(pid)
    assert kernel.poll() is None
    kernel.kill()
    assert kernel.wait(timeout=10) == -signal.SIGKILL
    assert kernel.poll() == -signal.SIGKILL and gone(pid, 1)
    os.close(keep)
    os.close(lifeline)


def test_interrupt_reaches_a_running_cell(tmp_path: Path, zygote: KernelZygote) -> None:
    """jupyter_client interrupts a busy warm kernel the same way as a fresh one."""

    async def scenario() -> str:
        km = warm_kernel_manager(zygote.address)(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            kc.execute("import time\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print('interrupted')")
            await asyncio.sleep(1.0)
            await km.interrupt_kernel()
            while True:
                msg = await kc.get_iopub_msg(timeout=20)
                if msg["msg_type"] == "stream":
                    return str(msg["content"]["text"])
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    assert asyncio.run(scenario()).strip() == "interrupted"


def test_closing_the_zygote_removes_its_folder() -> None:
    z = KernelZygote()
    folder = Path(z.address).parent
    assert folder.is_dir() and oct(folder.stat().st_mode & 0o777) == "0o700"  # only this user may ask for kernels
    z.close()
    assert not folder.exists() and z.pid > 0 and ForkedKernel(z.pid).poll() is not None


def test_zygote_of_a_killed_runner_goes_away(tmp_path: Path) -> None:
    """A runner killed with SIGKILL cannot stop its zygote: the zygote notices and removes its folder."""
    import subprocess

    code = (
        "import sys, time\nfrom srekit.report.kernels import KernelZygote\nz = KernelZygote()\n"
        "print(z.pid, z.address, flush=True)\ntime.sleep(60)\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert runner.stdout is not None
    pid, address = runner.stdout.readline().split()
    assert Path(address).exists()
    runner.kill()
    runner.wait()
    assert gone(int(pid), 10)
    assert not Path(address).parent.exists()


def test_jupyter_client_still_has_the_hooks_the_warm_kernels_override() -> None:
    """The warm kernels override private jupyter_client methods; pyproject.toml pins the major
    version they were written for. A jupyter_client without one of them fails here with the
    names, and the runner falls back to starting kernels the usual way."""
    from importlib.metadata import version

    from srekit.report import kernels

    missing = kernels.missing_hooks()
    assert not missing, (
        f"jupyter_client {version('jupyter_client')} lacks {missing}, which srekit.report.kernels overrides "
        "or calls: update WarmProvisioner / WarmKernelManager / WarmKernelClient for it, then the pin in pyproject.toml"
    )
    assert version("jupyter_client").split(".")[0] == "8", "pyproject.toml pins jupyter_client to major version 8"


def test_a_missing_hook_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from srekit.report import kernels

    monkeypatch.setattr(
        kernels, "PRIVATE_HOOKS", (*kernels.PRIVATE_HOOKS, ("jupyter_client.manager:AsyncKernelManager", "_gone"))
    )
    assert kernels.missing_hooks() == ["jupyter_client.manager:AsyncKernelManager._gone"]
