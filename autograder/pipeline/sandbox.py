"""Run a graded notebook's kernel in a sandbox: bubblewrap where it works, resource limits always.

The sandbox is built as an allow-list. Inside it the kernel sees, read-only, the
system folders (``/usr``, ``/etc``, ...), the Python installation and its
``site-packages``, the student kit's part of the ``autograder`` package
(:mod:`autograder.kit`; not the grader's ``pipeline`` nor the example class)
and the course's data cache, and, writable, only a private work folder (its
current directory, ``$HOME``) and a private ``/tmp``. It has no network (``--unshare-net``; the kernel's ZMQ sockets
use the IPC transport, files in the work folder), its own PID namespace (so every
child dies with it: ``--die-with-parent`` and PID 1 of the namespace), and never
sees ``source_notebooks/``, ``solutions/``, ``.git``, the submissions, any
gradebook copy or the grading output folder, because none of them is mounted.

Limits (``setrlimit`` in a tiny launcher that then ``exec``s the kernel):
``RLIMIT_DATA`` (memory: heap and anonymous mappings; not ``RLIMIT_AS``, which
TensorFlow's large virtual reservations would hit), ``RLIMIT_CPU`` (CPU seconds),
``RLIMIT_FSIZE`` (largest file written) and ``RLIMIT_CORE`` = 0.

Where ``bwrap`` is missing or cannot create namespaces (some containers), the
kernel runs with the limits only; :func:`describe` says which, and the grading
report repeats it.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Instance

from ..kit import kit_paths
from ..validate import CELL_TIMEOUT  # one limit per cell for grading and a student's validate

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")
_LIMITS_LAUNCHER = (
    "import os, resource, sys\n"
    "data, cpu, fsize = (int(v) for v in sys.argv[1:4])\n"
    "for res, value in ((resource.RLIMIT_DATA, data), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, fsize)):\n"
    "    if value > 0:\n"
    "        hard = value + 5 if res == resource.RLIMIT_CPU else value\n"
    "        resource.setrlimit(res, (value, hard))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execvp(sys.argv[4], sys.argv[4:])\n"
)


MODES = ("auto", "bwrap", "limits")


class SandboxSettingsError(ValueError):
    """Settings that do not describe a sandbox (a mode that does not exist, a key :class:`SandboxSettings` does not have)."""


class SandboxUnavailable(RuntimeError):
    """``--sandbox bwrap`` was asked for where bubblewrap cannot run."""


@dataclass(frozen=True)
class SandboxSettings:
    """Everything a worker needs to sandbox one kernel, and the one place their defaults are written.

    Frozen plain data: it travels to worker processes and Dask workers as it is (pickled),
    and the CLI's options and Gradescope's settings file take their defaults from its fields.
    """

    mode: str = "auto"  # "auto" (bwrap if it works), "bwrap" (required), "limits" (no bwrap)
    memory_mb: int = 4096  # RLIMIT_DATA; 0 = no limit
    cpu_seconds: int = 3600  # RLIMIT_CPU for the whole kernel; 0 = no limit
    max_file_mb: int = 512  # RLIMIT_FSIZE
    # seconds of wall clock per cell (nbgrader's Execute.timeout)
    cell_timeout: int = CELL_TIMEOUT
    notebook_timeout: int = 3600  # seconds of wall clock for the whole notebook
    max_output_chars: int = 200_000  # per cell, beyond which output is dropped (figures not counted)
    # figures: rendered inline (PNG) at this resolution; one over a cap becomes a note. KB as stored (base64)
    figure_dpi: int = 72
    max_figure_kb: int = 1024  # per figure
    max_notebook_figures_kb: int = 5120  # all the figures of one notebook
    threads: int = 0  # math-library threads per kernel (TensorFlow, OpenMP, BLAS); 0 = their default (every core)

    def __post_init__(self):
        if self.mode not in MODES:
            raise SandboxSettingsError(f"sandbox mode {self.mode!r} does not exist: use one of {', '.join(MODES)}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, where: str = "the sandbox settings") -> SandboxSettings:
        """The settings ``data`` (as :meth:`to_dict` wrote them) holds; a key this class does not know is refused, not ignored."""
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise SandboxSettingsError(
                f"{where}: unknown sandbox setting(s) {', '.join(unknown)}; the known ones are {', '.join(f.name for f in fields(cls))}"
            )
        return cls(**data)


@functools.lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """``None`` when bubblewrap can sandbox here, else why not."""
    exe = shutil.which("bwrap")
    if not exe:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        probe = subprocess.run(
            [exe, "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not run: {exc}"
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here: {probe.stderr.strip()[:200]}"
    return None


def effective_mode(settings: SandboxSettings) -> str:
    """``"bwrap"`` or ``"limits"``; raises when bwrap is required but cannot run."""
    if settings.mode == "limits":
        return "limits"
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if settings.mode == "bwrap":
        raise SandboxUnavailable(
            f"--sandbox bwrap was asked for, but {problem}. Make bubblewrap work here, or grade with --sandbox auto (it falls back to limits) or limits"
        )
    return "limits"


def thread_environment(threads: int) -> dict[str, str]:
    """Cap the thread pools of TensorFlow, OpenMP and BLAS in a kernel.

    Kernels that each start a pool as large as the machine fight over the cores.
    A cap also leaves a kernel that ends up running alone with idle cores, so it
    is the instructor's choice (``dlcourse grade --threads``), not a default.
    """
    n = str(max(1, threads))
    return {"TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": n, "OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def describe(settings: SandboxSettings) -> str:
    mode = effective_mode(settings)
    limits = f"memory {settings.memory_mb} MB, CPU {settings.cpu_seconds} s, {settings.cell_timeout} s/cell, {settings.notebook_timeout} s/notebook"
    if settings.threads:
        limits += f", {settings.threads} math thread(s) per kernel"
    if mode == "bwrap":
        return f"bubblewrap sandbox (no network, private /tmp, course files hidden); {limits}"
    why = "" if settings.mode == "limits" else f" ({bwrap_problem()})"
    return f"NO filesystem/network sandbox{why}: resource limits only; {limits}"


def _package_dir() -> Path:
    return Path(__file__).resolve().parent.parent  # .../autograder


def _kit_mounts() -> list[str]:
    """The student kit's files and folders of the package: never the grader (pipeline, verdicts, the example class)."""
    return [str(path) for path in kit_paths(_package_dir())]


def _python_dirs() -> list[str]:
    """The folders the kernel's Python needs: installation, venv, site-packages (resolved)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for entry in sys.path:  # not every entry: PYTHONPATH may be the course checkout itself
        if entry and os.path.isdir(entry) and ("site-packages" in entry or "dist-packages" in entry):
            candidates.add(entry)
    return sorted(os.path.realpath(c) for c in candidates if c and os.path.isdir(c))


def _data_dirs(course_root: Path | None) -> list[str]:
    dirs = []
    if os.environ.get("DLCOURSE_DATA"):
        dirs.append(os.environ["DLCOURSE_DATA"])
    keras_home = os.environ.get("KERAS_HOME") or os.path.expanduser("~/.keras")
    dirs += [keras_home, "/usr/share/datasets"]
    if course_root:
        dirs += [str(course_root / "datasets"), str(course_root.parent / "shared" / "datasets")]
    return [d for d in dirs if os.path.isdir(d)]


def bwrap_command(kernel_cmd: list[str], workdir: Path, settings: SandboxSettings, course_root: Path | None) -> list[str]:
    """``bwrap ...`` around ``kernel_cmd``: allow-listed read-only mounts, ``workdir`` writable."""
    cmd = [shutil.which("bwrap"), "--unshare-all", "--die-with-parent", "--new-session", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in SYSTEM_DIRS:
        if os.path.lexists(path):
            cmd += ["--ro-bind", path, path] if not os.path.islink(path) else ["--symlink", os.readlink(path), path]
    if os.path.isdir("/sys"):
        cmd += ["--ro-bind", "/sys", "/sys"]  # GPU drivers look in /sys
    for dev in sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri")):
        cmd += ["--dev-bind", dev, dev]
    shown = _python_dirs() + _kit_mounts() + _data_dirs(course_root)
    for path in dict.fromkeys(shown):
        cmd += ["--ro-bind", path, path]
    if course_root:
        # autograder.course looks for this file and folder to find the data cache; the folder stays empty.
        marker = course_root / "nbgrader_config.py"
        if marker.exists():
            cmd += ["--ro-bind", str(marker), str(marker)]
        cmd += ["--dir", str(course_root / "source_notebooks")]
    cmd += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir / "work")]
    env = sandbox_environment(workdir)
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    # ipykernel would watch its parent PID, which the PID namespace hides (it sees PID 1 and quits);
    # with 1 it does not poll; --die-with-parent does that job instead.
    cmd += ["--setenv", "JPY_PARENT_PID", "1"]
    return cmd + ["--"] + kernel_cmd


def sandbox_environment(workdir: Path) -> dict[str, str]:
    return {
        "HOME": str(workdir / "home"),
        "TMPDIR": "/tmp",
        "IPYTHONDIR": str(workdir / "home" / ".ipython"),
        "MPLCONFIGDIR": str(workdir / "home" / ".matplotlib"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "PYTHONPATH": str(_package_dir().parent),
    }


def limits_prefix(settings: SandboxSettings) -> list[str]:
    mb = 1024 * 1024
    return [sys.executable, "-c", _LIMITS_LAUNCHER, str(settings.memory_mb * mb), str(settings.cpu_seconds), str(settings.max_file_mb * mb)]


def prepare_workdir(workdir: Path) -> None:
    for sub in ("work", "home", "runtime"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class KernelSandbox:
    """Where one kernel runs: its private work folder, its :class:`SandboxSettings`, and the course it may read."""

    workdir: str
    settings: SandboxSettings
    course_root: str | None = None


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs under :func:`bwrap_command` (or the limits only).

    Configured with ``SandboxedKernelManager.sandbox = KernelSandbox(...)``.
    """

    sandbox = Instance(KernelSandbox, config=True, help="The kernel's work folder, sandbox settings and course root")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        workdir = Path(self.sandbox.workdir)
        prepare_workdir(workdir)
        self.transport = "ipc"  # no TCP: the sandbox has no network, not even the host's loopback
        self.ip = str(workdir / "runtime" / "kernel-ipc")
        self.connection_file = str(workdir / "runtime" / "kernel.json")

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        # Interrupt by message on the control channel: a signal to the launcher would stop at bwrap.
        self.kernel_spec.interrupt_mode = "message"
        cmd = super().format_kernel_cmd(extra_arguments)
        if cmd and cmd[0] in ("python", "python3", os.path.basename(sys.executable)):
            cmd[0] = sys.executable
        settings = self.sandbox.settings
        cmd = limits_prefix(settings) + cmd
        if effective_mode(settings) == "bwrap":
            root = self.sandbox.course_root
            cmd = bwrap_command(cmd, Path(self.sandbox.workdir), settings, Path(root) if root else None)
        return cmd

    async def start_kernel(self, **kw):
        settings = self.sandbox.settings
        workdir = Path(self.sandbox.workdir)
        env = dict(kw.get("env") or os.environ)
        env.update(sandbox_environment(workdir) if effective_mode(settings) == "limits" else {})
        if settings.threads:
            env.update(thread_environment(settings.threads))
        kw["env"] = env
        kw["cwd"] = str(workdir / "work")
        return await super().start_kernel(**kw)
