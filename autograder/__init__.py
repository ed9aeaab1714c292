"""Course kit for a semester of neural networks with Keras.

The package holds what every notebook and the grader share:

* :mod:`autograder.data` -- verified loaders for Fashion-MNIST and MNIST, and
  seeded generators for the small synthetic sets;
* :mod:`autograder.checks` -- the checks test cells call (gradients, arrays,
  architectures, accuracy);
* :mod:`autograder.runtime` -- seeding, quiet logging and the device report;
* :mod:`autograder.plots` -- the figures the notebooks draw;
* :mod:`autograder.validate`, :mod:`autograder.handin` -- a student's self-check and hand-in zip;
* :mod:`autograder.pipeline` -- release, answer keys and grading, built on nbgrader;
* :mod:`autograder.cli` -- the ``dlcourse`` command.

:mod:`autograder.kit` names the student kit: the modules students install (``dlcourse bundle``)
and the only ones a graded kernel's sandbox mounts. The pipeline and the CLI are the instructor's.
"""

__version__ = "0.1.0"
