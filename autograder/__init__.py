"""Course kit for a semester of neural networks with Keras.

The package holds what every notebook and the grader share:

* :mod:`autograder.data` -- verified loaders for Fashion-MNIST and MNIST, and
  seeded generators for the small synthetic sets;
* :mod:`autograder.checks` -- the checks test cells call (gradients, arrays,
  architectures, accuracy);
* :mod:`autograder.runtime` -- seeding, quiet logging and the device report;
* :mod:`autograder.plots` -- the figures the notebooks draw;
* :mod:`autograder.pipeline` -- release, answer keys and grading, built on nbgrader;
* :mod:`autograder.cli` -- the ``dlcourse`` command.
"""

__version__ = "0.1.0"
