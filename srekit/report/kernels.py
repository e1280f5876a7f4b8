"""Warm notebook kernels for ``srekit report``: each kernel is forked from a process that has
already imported ipykernel, pandas, matplotlib and srekit, instead of starting Python afresh.

A report runs every notebook in its own kernel. A fresh ``python3`` kernel spends about a
second of CPU starting Python and ipykernel and importing the libraries every notebook needs;
on a 2-CPU machine seven such kernels cost more than the analysis itself. The multiprocessing
``forkserver`` idea, applied to Jupyter kernels:

* :class:`KernelZygote` (in the runner) binds a Unix socket in a private (0700) temporary
  folder and starts ``python -m srekit.report.kernels FD RUNNER NICE MODULES...`` with it: the zygote
  imports :data:`PRELOAD`, then forks one kernel per request. Requests made while it is still
  importing wait in the socket's backlog.
* :class:`WarmKernelManager` (passed to papermill as nbclient's ``kernel_manager_class``) uses
  :class:`WarmProvisioner`, jupyter_client's local provisioner with one change: instead of
  ``Popen(cmd)`` it sends the command's arguments, working folder and environment, plus three
  file descriptors (stdout, stderr and a lifeline pipe), to the zygote and manages the forked
  pid. Its client (:class:`WarmKernelClient`) skips jupyter_client's 0.2 s wait for a quiet
  IOPub channel after the kernel is ready, and it checks a stopped kernel is gone every 10 ms.
* The forked child is a new session (interrupts reach its process group), resets the signal
  handlers, reseeds numpy's global generator, takes the requested folder, environment and
  streams, and runs ``ipykernel`` exactly as ``python -m ipykernel_launcher -f FILE`` does. It
  exits when its lifeline closes (the process that asked for it let go or died) or the zygote
  goes away; the zygote exits when the runner that started it is gone.

Anything unusual (no zygote, another interpreter or other interpreter options than the zygote's,
a kernel command that is not ``INTERPRETER -m ipykernel_launcher``, the zygote failing) falls
back to the normal launch, so a notebook never fails because of this. ``srekit report --fresh-kernels`` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Type

#: Modules a kernel forked from the zygote finds already imported: ipykernel and what the
#: notebooks' first cells import (never scipy: the notebooks only unpickle results).
PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "numpy",
    "pandas",
    "pyarrow",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "srekit.report.cache",
    "srekit.report.nbshow",
    "srekit.report.runner",
    "srekit.report.contract",
    "srekit.report.plots.telemetry",
    "srekit.report.plots.slo",
    "srekit.report.plots.alerting",
    "srekit.report.plots.incidents",
    "srekit.report.plots.toil",
)
#: jupyter_client internals the warm kernels override or call, by the class that defines them.
#: jupyter_client is pinned to the major version they were written for (8); :func:`missing_hooks`
#: checks they are still there, and the runner starts kernels the usual way when one is gone.
PRIVATE_HOOKS: tuple[tuple[str, str], ...] = (
    ("jupyter_client.manager:AsyncKernelManager", "_async_wait"),
    ("jupyter_client.manager:AsyncKernelManager", "_async_pre_start_kernel"),
    ("jupyter_client.manager:AsyncKernelManager", "provisioner"),
    ("jupyter_client.asynchronous:AsyncKernelClient", "wait_for_ready"),
    ("jupyter_client.asynchronous:AsyncKernelClient", "_handle_kernel_info_reply"),
    ("jupyter_client.asynchronous:AsyncKernelClient", "_async_is_alive"),
    ("jupyter_client.provisioning:LocalProvisioner", "launch_kernel"),
    ("jupyter_client.provisioning:LocalProvisioner", "wait"),
    ("jupyter_client.provisioning:LocalProvisioner", "cleanup"),
    ("jupyter_client.provisioning:LocalProvisioner", "connection_info"),
)
SOCKET_NAME = "zygote.sock"
#: How long a kernel request waits for the zygote (it answers once its imports are done).
REQUEST_TIMEOUT_S = 60.0
_MAX_MESSAGE = 1 << 20


class ZygoteError(OSError):
    """The zygote could not fork a kernel (the caller falls back to a normal launch)."""


# --------------------------------------------------------------------------------------------
# the runner's side
# --------------------------------------------------------------------------------------------


class KernelZygote:
    """The preloaded process kernels are forked from; a context manager that starts it and
    stops it (and removes its private folder) on exit. :attr:`address` is its socket path.

    The socket is bound and listening here, before the zygote starts, and handed to it: a
    request made while the zygote is still importing waits in the socket's backlog, and one
    made after it died is refused (the kernel then starts the usual way).
    """

    def __init__(self, preload: tuple[str, ...] = PRELOAD, *, nice: int = 0, kernel_name: str = "python3") -> None:
        """``nice``: how much lower the zygote's (and so its kernels') scheduling priority is.
        The zygote runs the interpreter of ``kernel_name``'s kernel spec with the same options
        (e.g. ipykernel's ``-Xfrozen_modules=off``), so its kernels are what that spec starts."""
        self._folder = Path(tempfile.mkdtemp(prefix="srekit-kernels-"))  # 0700: only this user connects
        self.address = str(self._folder / SOCKET_NAME)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(self.address)
            listener.listen(64)
            self._proc = subprocess.Popen(
                [
                    *interpreter(kernel_name),
                    "-m",
                    "srekit.report.kernels",
                    str(listener.fileno()),
                    str(os.getpid()),
                    str(int(nice)),
                    *preload,
                ],
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(listener.fileno(),),
                # debugpy (preloaded for ipykernel's debugger) would warn about frozen modules on
                # the runner's terminal; a kernel started normally says it in its own log
                env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
            )

    @property
    def pid(self) -> int:
        return int(self._proc.pid)

    def __enter__(self) -> KernelZygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the zygote (kernels it forked notice and exit) and remove its folder."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


def interpreter(kernel_name: str = "python3") -> list[str]:
    """The interpreter and its options that ``kernel_name``'s spec runs ``-m ipykernel_launcher``
    with (``[sys.executable]`` when the spec cannot be read or is not of that form)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = list(KernelSpecManager().get_kernel_spec(kernel_name).argv)
    except Exception:  # no such spec: the provisioner then falls back for every kernel anyway
        return [sys.executable]
    split = _launcher_at(argv)
    return argv[:split] if split else [sys.executable]


def _launcher_at(cmd: list[str]) -> int | None:
    """Where ``-m ipykernel_launcher`` starts in a kernel command (None: not such a command)."""
    for i in range(1, len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
            return i
    return None


def request_kernel(
    address: str,
    args: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    fds: tuple[int, int, int],
    interpreter: list[str] | None = None,
    timeout: float = REQUEST_TIMEOUT_S,
) -> int:
    """Ask the zygote at ``address`` for a kernel run as ``INTERPRETER -m ipykernel_launcher
    args`` in ``cwd`` with ``env`` (the zygote refuses another interpreter or other options than
    its own); ``fds`` are its stdout, its stderr and its lifeline (the read end of a pipe whose
    write end the caller holds: the kernel exits when that closes). Returns its pid."""
    request = json.dumps(
        {"args": args, "cwd": cwd, "env": env, "owner": os.getpid(), "interpreter": interpreter or [sys.executable]}
    ).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            socket.send_fds(sock, [request], list(fds))
            sock.shutdown(socket.SHUT_WR)
            reply = json.loads(_read_all(sock) or b"{}")
    except (OSError, ValueError) as exc:
        raise ZygoteError(f"kernel zygote at {address}: {exc}") from exc
    if "pid" not in reply:
        raise ZygoteError(f"kernel zygote at {address}: {reply.get('error', 'no answer')}")
    return int(reply["pid"])


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


class ForkedKernel:
    """The part of :class:`subprocess.Popen` jupyter_client's provisioner uses, for a kernel
    forked by the zygote (not this process' child: liveness is probed with signal 0 once the
    zygote has reaped it; its exit status is not known here)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -signal.SIGKILL
            except PermissionError:  # the pid was reused by another user's process: ours is gone
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0.0)
            time.sleep(0.02)
        return code

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class WarmProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter_client's local provisioner, launching through the zygote when it can."""

    _lifeline: int | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        address = getattr(self.parent, "zygote_address", "")
        split = _launcher_at(cmd)
        if not address or split is None:
            return await super().launch_kernel(cmd, **kwargs)
        env = kwargs.get("env") or dict(os.environ)
        env = {**env, "JPY_PARENT_PID": str(os.getpid())}
        cwd = str(kwargs.get("cwd") or os.getcwd())
        lifeline, self._lifeline = os.pipe()  # this end stays open while the kernel is ours
        try:
            pid = request_kernel(
                address,
                cmd[split + 2 :],
                cwd=cwd,
                env=env,
                interpreter=cmd[:split],
                fds=(_fd(kwargs.get("stdout"), 1), _fd(kwargs.get("stderr"), 2), lifeline),
            )
        except ZygoteError as exc:
            self._close_lifeline()
            print(f"srekit: {exc}; starting the kernel the usual way", file=sys.stderr)
            return await super().launch_kernel(cmd, **kwargs)
        finally:
            os.close(lifeline)
        self.process = ForkedKernel(pid)  # type: ignore[assignment]  # the Popen subset the provisioner uses
        self.pid = self.pgid = pid  # the child is its own session and process group
        self.cwd = cwd
        return self.connection_info

    async def wait(self) -> int | None:
        """As the local provisioner's, polling every 10 ms instead of 100 ms (a killed kernel is
        reaped at once)."""
        if not isinstance(self.process, ForkedKernel):
            return await super().wait()  # type: ignore[no-any-return]
        while (code := self.process.poll()) is None:
            await asyncio.sleep(0.01)
        self.process = None
        return code

    async def cleanup(self, restart: bool = False) -> None:
        self._close_lifeline()
        await super().cleanup(restart=restart)

    def _close_lifeline(self) -> None:
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None


def _fd(stream: Any, default: int) -> int:
    if stream is None:
        return default
    return stream if isinstance(stream, int) else int(stream.fileno())


class WarmKernelClient(AsyncKernelClient):  # type: ignore[misc]
    """jupyter_client's asynchronous client with a quicker :meth:`wait_for_ready`."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """As jupyter_client's, without its last step: waiting until IOPub has been quiet for
        0.2 s. nbclient matches every IOPub message to the request it answers, so the status
        messages of the kernel_info requests left in the queue are skipped anyway."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)  # IOPub is connected
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


class WarmKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """An nbclient kernel manager whose kernels come from the zygote at :attr:`zygote_address`
    (set it with :func:`warm_kernel_manager`), with :class:`WarmKernelClient` clients."""

    zygote_address = ""
    client_factory = Type(klass=WarmKernelClient, default_value=WarmKernelClient, config=True)

    async def _async_wait(self, pollinterval: float = 0.01) -> None:
        """Wait for the stopped kernel to be gone, checking every 10 ms (not 100 ms)."""
        await super()._async_wait(pollinterval=pollinterval)

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = WarmProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def missing_hooks() -> list[str]:
    """The :data:`PRIVATE_HOOKS` the installed jupyter_client lacks (empty when the warm kernels
    can work), as ``module:Class.name``."""
    import importlib

    missing = []
    for where, name in PRIVATE_HOOKS:
        module, cls = where.split(":")
        owner = getattr(importlib.import_module(module), cls, None)
        if owner is None or not (hasattr(owner, name) or name in getattr(owner, "class_traits", dict)()):
            missing.append(f"{where}.{name}")
    return missing


def warm_kernel_manager(address: str) -> type[WarmKernelManager]:
    """A :class:`WarmKernelManager` class bound to the zygote at ``address`` (nbclient builds
    its kernel manager from a class)."""
    return type("BoundWarmKernelManager", (WarmKernelManager,), {"zygote_address": address})


# --------------------------------------------------------------------------------------------
# the zygote's side
# --------------------------------------------------------------------------------------------


def serve(listener_fd: int, runner: int, preload: tuple[str, ...], nice: int = 0) -> None:
    """Import ``preload``, then fork a kernel for each request on the listening socket
    ``listener_fd`` until terminated or ``runner`` (the pid that started this process) is gone;
    ``nice`` lowers this process' priority first (its kernels inherit it)."""
    import importlib

    if nice and hasattr(os, "nice"):
        os.nice(nice)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher: the kernel adds its own working folder back
    listener = socket.socket(fileno=listener_fd)
    address = str(listener.getsockname())
    listener.settimeout(1.0)  # wake up now and then to notice a runner that died without stopping us
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel sets it
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a kernel then imports it itself, as a fresh one would
            print(f"srekit kernel zygote: could not preload {name}: {exc}", file=sys.stderr)
    gc.collect()
    gc.freeze()  # preloaded objects leave the collector's view: a kernel's collections neither walk nor copy them
    signal.signal(signal.SIGCHLD, _reap)  # reaped here: their CPU time adds to this process' children
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    zygote = os.getpid()
    own = sys.orig_argv[: sys.orig_argv.index("-m")]  # this interpreter and its options
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if os.getppid() != runner:  # the runner was killed: leave no process or socket behind
                shutil.rmtree(os.path.dirname(address), ignore_errors=True)
                os._exit(0)
            continue
        conn.settimeout(None)
        fds: list[int] = []
        with conn:
            try:
                msg, fds, _, _ = socket.recv_fds(conn, _MAX_MESSAGE, 3)
                request = json.loads(msg)
                if request.get("interpreter") != own or len(fds) != 3:
                    raise ZygoteError(
                        f"zygote runs {own} and takes 3 descriptors; asked for {request.get('interpreter')} with "
                        f"{len(fds)}"
                    )
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    _become_kernel(conn, fds, request, zygote)
                reply: dict[str, object] = {"pid": pid}
            except Exception as exc:
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                for fd in fds:
                    os.close(fd)
            # the asker may be gone (Ctrl-C reached it first): nobody to answer, and a kernel forked
            # for it exits when its lifeline closes (_watch)
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps(reply).encode())


def _reap(*_: object) -> None:
    """SIGCHLD: collect every finished kernel (no zombies, so a liveness probe sees it gone)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(conn: socket.socket, fds: list[int], request: dict[str, Any], zygote: int) -> None:
    """In the forked child: become what ``python -m ipykernel_launcher ARGS`` would be; never
    returns."""
    code = 1
    try:
        conn.close()
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in (devnull, fds[0], fds[1]):
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()  # a fresh process would not share the zygote's state
        _watch(fds[2], zygote)
        sys.argv = ["ipykernel_launcher", *request["args"]]
        from ipykernel import kernelapp

        # the app's parent_handle default was read from the zygote's environment at import
        kernelapp.launch_new_instance(argv=[*request["args"], f"--IPKernelApp.parent_handle={int(request['owner'])}"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _watch(lifeline: int, zygote: int) -> None:
    """Exit when the lifeline closes (the process that asked for this kernel let go of it or
    died, even if not yet reaped) or the zygote is gone, as a normal kernel's parent poller
    would."""

    def loop() -> None:
        while True:
            ready, _, _ = select.select([lifeline], [], [], 1.0)
            if (ready and not os.read(lifeline, 1)) or os.getppid() != zygote:
                os._exit(1)

    threading.Thread(target=loop, name="srekit-kernel-lifeline", daemon=True).start()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), tuple(sys.argv[4:]), nice=int(sys.argv[3]))
