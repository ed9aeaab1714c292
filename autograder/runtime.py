"""Reproducibility, quiet logs and the device report: the first cell of every notebook.

nbgrader gives a grade cell zero points when it writes anything to stderr,
so TensorFlow's C++ and absl logging, and Python warnings from the
frameworks, are silenced before TensorFlow is imported.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import platform
import random
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


def quiet() -> None:
    """Silence TensorFlow/absl logging and framework warnings, and import TensorFlow quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" not in sys.modules:
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
    """Seed Python, NumPy and Keras (and so TensorFlow); optionally make TF ops deterministic."""
    quiet()
    import numpy as np
    import keras
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


@dataclass
class DeviceReport:
    python: str
    tensorflow: str
    keras: str
    numpy: str
    cpu: str
    cores: int
    gpus: list[str]

    @property
    def device(self) -> str:
        return self.gpus[0] if self.gpus else f"CPU ({self.cpu}, {self.cores} cores)"

    def __str__(self) -> str:
        accelerator = ", ".join(self.gpus) if self.gpus else "none (training runs on the CPU)"
        return (
            f"Python {self.python} · TensorFlow {self.tensorflow} · Keras {self.keras} · NumPy {self.numpy}\n"
            f"CPU: {self.cpu}, {self.cores} cores · GPU: {accelerator}"
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


def device_report() -> DeviceReport:
    """What this kernel will train on."""
    quiet()
    import numpy as np
    import keras
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        gpus.append(details.get("device_name", device.name))
    return DeviceReport(
        python=platform.python_version(),
        tensorflow=tf.__version__,
        keras=keras.__version__,
        numpy=np.__version__,
        cpu=_cpu_model(),
        cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        gpus=gpus,
    )


def setup_notebook(seed: int = 0, deterministic: bool = True) -> DeviceReport:
    """Quiet logs, seed everything, print and return the device report.

    ``DLCOURSE_SEED`` overrides ``seed`` (``dlcourse bench --seeds`` uses it to
    measure the spread over seeds without editing the notebooks).
    """
    seed = int(os.environ.get("DLCOURSE_SEED", seed))
    seed_everything(seed, deterministic)
    report = device_report()
    print(report)
    return report
