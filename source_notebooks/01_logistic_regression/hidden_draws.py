"""The draws of 01's hidden tests (see autograder/hidden_draws.py): every hidden cell, run on the answer key.

Read by the grader's tests only; nbgrader_config.py keeps this file out of the student release.
"""

import numpy as np

from autograder.hidden_draws import Drawn


def blobs(rng, namespace):
    """test_gradient_descent trains on the notebook's data set (Xb, yb): other data sets drawn like it."""
    X, y = namespace["make_blobs"](n=200, separation=2.5, seed=int(rng.integers(2**31)))
    return {"Xb": namespace["add_bias"](X), "yb": y.astype(np.float64)}


CELLS = {
    "test_sigmoid": Drawn(),
    "test_bce_loss": Drawn(),
    "test_bce_gradient": Drawn(),
    # its visible part trains on (Xb, yb) and its hidden part checks that run: the whole cell, on other blobs
    "test_gradient_descent": Drawn(inputs=blobs, scope="cell"),
    "test_bce_hessian": Drawn(
        12,
        why_fewer="a draw costs about 0.25 s (TensorFlow traces the tape's jacobian anew on each call); both sides are closed-form "
        "float64 formulas that agree to about N * 1e-16, against rtol 1e-8",
    ),
    "test_newton_step": Drawn(),
    "test_irls_step": Drawn(),
    "test_logit": Drawn(),
    "test_odds_ratio": Drawn(),
    "test_tape_gradient": Drawn(),
    "test_softmax": Drawn(),
    "test_softmax_cross_entropy": Drawn(),
}
