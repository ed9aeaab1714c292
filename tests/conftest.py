from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_report_header(config):
    return f"course root: {ROOT}"


# Modules whose every test runs notebook code that imports Keras (and with it TensorFlow).
TENSORFLOW_MODULES = ["test_mutations.py"]


def pytest_collection_modifyitems(config, items):
    """Mark what imports TensorFlow (``make test-fast`` skips those): the modules above and every test
    that asks for the ``keras`` fixture. Then run the modules that read an example class last."""
    for item in items:
        in_tf_module = any(fnmatch.fnmatch(item.path.name, pattern) for pattern in TENSORFLOW_MODULES)
        if in_tf_module or "keras" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.tensorflow)
    _example_classes_last(items)


def _needs_example_class(item) -> bool:
    return bool({"example_class", "graded"} & set(getattr(item, "fixturenames", ())))


def _assignment_of(item) -> str | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return params.get("aid") or getattr(item.module, "AID", None)


def _prefetch_order() -> dict[str, int]:
    """Where each assignment's example class comes in the background prefetch: the last assignment first.

    The later assignments train the longest; graded first, they are ready by the time the tests that read them run,
    and what is still being graded at the end of the session is a short one.
    """
    from autograder.registry import assignments

    return {a.id: i for i, a in enumerate(reversed(assignments()))}


def _example_classes_last(items) -> None:
    """Move whole modules that read an example class to the end, in the order the prefetch grades their classes.

    The background prefetch grades the example classes while every other test runs; a test that waits for one early
    leaves a core idle and the rest of the session then runs beside nothing. Whole modules move, so their
    module-scoped fixtures are still built once; within a module, the tests follow the prefetch's order.
    """
    order = _prefetch_order()
    position = {id(item): order.get(_assignment_of(item), len(order)) for item in items if _needs_example_class(item)}
    latest: dict[Path, int] = {}
    for item in items:
        if id(item) in position:
            latest[item.path] = max(latest.get(item.path, -1), position[id(item)])
    # stable: modules that read no example class keep their order, and so do tests that read none
    items.sort(key=lambda item: (item.path in latest, latest.get(item.path, -1), str(item.path), position.get(id(item), -1)))


@pytest.fixture(autouse=True)
def _tensorflow_only_where_marked(request):
    """Fail a test that imports TensorFlow in this process without being marked for it, so the
    markers ``make test-fast`` relies on stay true."""
    before = "tensorflow" in sys.modules
    yield
    marked = any(request.node.get_closest_marker(m) for m in ("tensorflow", "kernel", "slow", "data"))
    if not before and "tensorflow" in sys.modules and not marked:
        pytest.fail(f"{request.node.nodeid} imported TensorFlow: mark it @pytest.mark.tensorflow", pytrace=False)


def _example_class_aids(items) -> list[str]:
    """The assignments whose example class the collected tests grade, in the prefetch's order (the order the tests need them)."""
    needed = {_assignment_of(item) for item in items if _needs_example_class(item)}
    return sorted((aid for aid in needed if aid), key=_prefetch_order().get)


class ExampleClassPrefetch:
    """Grades the example classes one after another in a background process, lowest CPU priority.

    Most of the session's tests leave a core idle (kernels starting, nbgrader, one-threaded NumPy); the answer
    keys' training fills it instead of running after them. ``DLCOURSE_PREFETCH=0`` turns it off.
    """

    def __init__(self, aids: list[str], folder: Path):
        import threading

        self.folder, self.done = folder, {aid: threading.Event() for aid in aids}
        # The environment as the session started: tests set variables for a while (the bench's metrics
        # log) and a grading started meanwhile must not inherit them.
        self.environment = dict(os.environ)
        self.returncodes: dict[str, int] = {}
        self.thread = threading.Thread(target=self._run, args=(aids,), daemon=True)
        self.thread.start()

    def work(self, aid: str) -> Path:
        return self.folder / aid

    def _run(self, aids: list[str]) -> None:
        import subprocess

        for aid in aids:
            command = ["nice", "-n", "10", sys.executable, str(ROOT / "tests" / "grade_example_class.py"), aid, str(self.work(aid))]
            with open(self.folder / f"{aid}.log", "w") as log:
                run = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=self.environment)
                self.returncodes[aid] = run.returncode
            self.done[aid].set()

    def wait(self, aid: str) -> Path | None:
        """The folder graded in the background, or None when this assignment was not prefetched or its run failed."""
        if aid not in self.done:
            return None
        self.done[aid].wait()
        return self.work(aid) if self.returncodes.get(aid) == 0 else None


_prefetch: ExampleClassPrefetch | None = None


def pytest_collection_finish(session):
    global _prefetch
    aids = _example_class_aids(session.items)
    if aids and os.environ.get("DLCOURSE_PREFETCH", "1") != "0" and not session.config.option.collectonly:
        folder = Path(session.config._tmp_path_factory.mktemp("example-classes"))
        _prefetch = ExampleClassPrefetch(aids, folder)


@pytest.fixture(scope="session")
def example_class(tmp_path_factory):
    """Grade an assignment's example class once per session, keeping the weights grading trained.

    ``example_class(aid)`` -> (submissions by student, report paths, grading folder); the answer key's
    models are in ``<grading folder>/trained_models/alice/<aid>/``, trained by the grader from the key's code.
    The background prefetch has usually graded it already: grading the same folder again then reuses every
    recorded result (nothing runs twice).
    """
    from grade_example_class import OPTIONS
    from grade_example_class import grade as grade_class

    from autograder.pipeline.report import write_reports

    cache = {}

    def grade(aid):
        if aid not in cache:
            work = (_prefetch.wait(aid) if _prefetch else None) or tmp_path_factory.mktemp(aid)
            subs = grade_class(aid, work, OPTIONS)
            paths = write_reports(subs, work / "grading", f"sqlite:///{work / 'grading' / 'gradebook.db'}")
            cache[aid] = ({s.student: s for s in subs}, paths, work / "grading")
        return cache[aid]

    return grade
