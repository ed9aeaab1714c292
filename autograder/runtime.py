"""Reproducibility, quiet logs and the device report: the first cell of every notebook.

nbgrader gives a grade cell zero points when it writes anything to stderr,
so TensorFlow's C++ and absl logging, and Python warnings from the
frameworks, are silenced before TensorFlow is imported.

TensorFlow is the course's backend (``KERAS_BACKEND`` defaults to it). With
``KERAS_BACKEND=jax`` or ``torch`` nothing here imports TensorFlow, so
assignment 06 also runs where only JAX or PyTorch is installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import random
import sys
import warnings
from dataclasses import dataclass


@contextlib.contextmanager
def _stderr_fd_silenced():
    """Point file descriptor 2 at /dev/null: TensorFlow's C++ start-up lines bypass Python's sys.stderr."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def backend() -> str:
    """The Keras backend this process uses (or will use): ``KERAS_BACKEND``, TensorFlow by default."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    return os.environ["KERAS_BACKEND"]


def quiet() -> None:
    """Silence TensorFlow/absl logging and framework warnings, and import TensorFlow quietly (on its backend)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend() == "tensorflow" and "tensorflow" not in sys.modules:
        # absl prints "log messages before absl::InitializeLog()" at import, whatever the log level.
        with _stderr_fd_silenced():
            import tensorflow  # noqa: F401
    for module in ("tensorflow", "keras", "absl", "jax", "h5py", "google.protobuf", "numpy"):
        warnings.filterwarnings("ignore", module=module)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    if os.environ.get("DLCOURSE_GRADING"):
        warnings.filterwarnings("ignore")
    for name in ("tensorflow", "absl", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
        absl.logging.set_stderrthreshold("error")
    except ImportError:
        pass


def seed_everything(seed: int = 0, deterministic: bool = True) -> None:
    """Seed Python, NumPy and Keras (and so its backend); optionally make TensorFlow's ops deterministic."""
    quiet()
    import keras
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    with _stderr_fd_silenced():  # on another backend Keras still seeds TensorFlow, importing it, if installed
        keras.utils.set_random_seed(seed)
    if deterministic and backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


@dataclass
class DeviceReport:
    python: str
    backend: str  # Keras backend: tensorflow, jax or torch
    backend_version: str
    tensorflow: str  # version, or "not installed"
    keras: str
    numpy: str
    cpu: str
    cores: int
    gpus: list[str]
    fused_lstm: bool  # keras.layers.LSTM can take the fused cuDNN kernel here (a GPU the backend uses)

    @property
    def device(self) -> str:
        return self.gpus[0] if self.gpus else f"CPU ({self.cpu}, {self.cores} cores)"

    def __str__(self) -> str:
        accelerator = ", ".join(self.gpus) if self.gpus else "none (training runs on the CPU)"
        fused = "yes, for LSTM layers that meet its conditions" if self.fused_lstm else "no (no GPU)"
        return (
            f"Python {self.python} · Keras {self.keras} on {BACKEND_NAMES.get(self.backend, self.backend)} {self.backend_version}"
            f" · NumPy {self.numpy}\n"
            f"CPU: {self.cpu}, {self.cores} cores · GPU: {accelerator} · fused cuDNN LSTM kernel: {fused}"
        )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def backend_gpus(name: str | None = None) -> tuple[str, list[str]]:
    """(framework version, names of the GPUs it will use) for a Keras backend (default: this process's)."""
    name = name or backend()
    if name == "jax":
        import jax

        return jax.__version__, [f"{d.device_kind} ({d.platform})" for d in jax.devices() if d.platform == "gpu"]
    if name == "torch":
        import torch

        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
        return torch.__version__, gpus
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append(details.get("device_name", device.name))
    return tf.__version__, gpus


def _installed_version(distribution: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def device_report() -> DeviceReport:
    """What this kernel will train on, with which Keras backend."""
    quiet()
    import keras
    import numpy as np

    name = keras.backend.backend()
    version, gpus = backend_gpus(name)
    tensorflow = next((v for v in map(_installed_version, ("tensorflow", "tensorflow-cpu")) if v), "not installed")
    return DeviceReport(
        python=platform.python_version(),
        backend=name,
        backend_version=version,
        tensorflow=tensorflow,
        keras=keras.__version__,
        numpy=np.__version__,
        cpu=_cpu_model(),
        cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        gpus=gpus,
        fused_lstm=bool(gpus),
    )


def run_seed(default: int = 0) -> int:
    """The seed of this run: ``DLCOURSE_SEED`` when it is set, else ``default``.

    ``dlcourse bench --seed`` sets it to measure the spread over seeds without
    editing the notebooks; a cell that reseeds before training its graded model
    must reseed with this, or every seed of the benchmark trains the same model.
    """
    return int(os.environ.get("DLCOURSE_SEED", default))


def setup_notebook(seed: int = 0, deterministic: bool = True) -> DeviceReport:
    """Quiet logs, seed everything (with ``run_seed(seed)``), print and return the device report."""
    seed = run_seed(seed)
    seed_everything(seed, deterministic)
    report = device_report()
    print(report)
    return report
