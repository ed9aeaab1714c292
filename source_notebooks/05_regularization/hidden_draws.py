"""The draws of 05's hidden tests (see autograder/hidden_draws.py): every hidden cell, run on the answer key.

Read by the grader's tests only; nbgrader_config.py keeps this file out of the student release.
A few cells get fewer than 1,000 draws to keep the draw tests within a CI run's budget (about two
minutes for all six assignments on 2 cores); each says what one draw costs.
"""

import numpy as np

from autograder.hidden_draws import Drawn, Excused


def probe_inputs(rng, namespace):
    """test_mc_dropout's hidden section reads x_probe from the visible part: other inputs drawn like it."""
    return {"x_probe": rng.normal(size=(6, 40)).astype(np.float32)}


CELLS = {
    "test_dropout_forward": Drawn(150, why_fewer="a draw costs about 14 ms (eight dropout passes over 300 x 300 arrays)"),
    "test_dropout_backward": Drawn(500, why_fewer="a draw costs about 4 ms (finite differences of a 60-entry input)"),
    "test_batchnorm_train": Drawn(100, why_fewer="a draw costs about 20 ms (two keras.layers.BatchNormalization built and called)"),
    "test_batchnorm_inference": Drawn(200, why_fewer="a draw costs about 7 ms (a keras.layers.BatchNormalization built and called)"),
    "test_batchnorm_backward": Drawn(60, why_fewer="a draw costs about 40 ms (four Keras layers differentiated by a tape)"),
    "test_layernorm": Drawn(60, why_fewer="a draw costs about 35 ms (five Keras layers built and differentiated by a tape)"),
    "test_mlp_architecture": Excused(
        "no random input: architectures written in the cell, and generalization_gap of a hand-made model on literal inputs, "
        "whose expected values are exact"
    ),
    "test_l1_penalty": Drawn(500, why_fewer="a draw costs about 4 ms (three Keras regularizers differentiated by a tape)"),
    # the plain model's weights come from Keras's initializer, which the cell does not seed: each draw gets others too
    "test_mc_dropout": Drawn(
        2,
        inputs=probe_inputs,
        why_fewer="a draw costs about 1.2 s (Keras traces each new model's first calls); the check compares the mean of five "
        "identical float32 passes with one pass, which rounding moves by a few float32 ulps (1e-7) against rtol 1e-5",
    ),
    "test_predictive_entropy": Drawn(),
    "test_decile_accuracy": Drawn(),
}
