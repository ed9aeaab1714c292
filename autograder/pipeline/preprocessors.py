"""Our nbgrader preprocessors: small steps that slot into nbgrader's converters."""

from __future__ import annotations

from nbgrader.preprocessors import Execute
from traitlets import Unicode


class ProgressExecute(Execute):
    """nbgrader's ``Execute`` with a progress bar over the code cells.

    Grading a training-heavy notebook takes minutes; the bar shows which
    cell is running and how long the cells so far took.
    """

    progress_label = Unicode("executing", help="Text shown before the progress bar").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        from tqdm.auto import tqdm

        total = sum(1 for cell in nb.cells if cell.cell_type == "code")
        label = resources.get("unique_key", self.progress_label) if resources else self.progress_label
        self._bar = tqdm(total=total, desc=label, unit="cell", leave=False, dynamic_ncols=True)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._bar.close()

    def preprocess_cell(self, cell, resources, index):
        result = super().preprocess_cell(cell, resources, index)
        if cell.cell_type == "code":
            self._bar.update(1)
        return result


def with_progress(owner: type, trait: str) -> list:
    """``owner``'s default preprocessor list for ``trait`` with ``Execute`` swapped for :class:`ProgressExecute`."""
    defaults = owner.class_traits()[trait].default()
    return [ProgressExecute if pp is Execute else pp for pp in defaults]
