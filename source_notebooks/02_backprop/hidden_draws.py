"""The draws of 02's hidden tests (see autograder/hidden_draws.py): every hidden cell, run on the answer key.

Read by the grader's tests only; nbgrader_config.py keeps this file out of the student release.
A few cells get fewer than 1,000 draws to keep the draw tests within a CI run's budget (about two
minutes for all six assignments on 2 cores); each says what one draw costs.
"""

from autograder.hidden_draws import Drawn, Excused


def least_squares_data(rng, namespace):
    """test_train_sgd's hidden section reads the visible part's data (X_sgd, y_sgd) and goes on with its generator (rng).

    Redrawing the whole cell instead would redraw the visible part's check that five epochs lower the loss,
    which holds for the notebook's seed but not for every seed (momentum 0.9 can overshoot): about one draw in 40.
    """
    return {"X_sgd": rng.normal(size=(24, 3)), "y_sgd": rng.normal(size=24), "rng": rng}

CELLS = {
    "test_affine": Drawn(),
    "test_sigmoid": Drawn(),
    "test_tanh": Drawn(),
    "test_relu": Drawn(),
    "test_leaky_relu": Drawn(100, why_fewer="a draw costs about 32 ms (three TensorFlow tapes through Keras LeakyReLU layers, one of them 12 deep)"),
    "test_softmax_ce": Drawn(),
    "test_output_deltas": Drawn(300, why_fewer="a draw costs about 9 ms (four TensorFlow tapes of the squared error)"),
    "test_delta_rule_step": Drawn(500, why_fewer="a draw costs about 4 ms (two TensorFlow tapes of the squared error)"),
    "test_two_layer": Drawn(400, why_fewer="a draw costs about 7 ms (two networks, every weight checked by finite differences)"),
    "test_init": Drawn(200, why_fewer="a draw costs about 9 ms (five initialisations of up to 1000 x 300 weights)"),
    "test_mlp": Drawn(200, why_fewer="a draw costs about 19 ms (four networks, every weight checked by finite differences)"),
    "test_finite_differences": Excused(
        "no random input: the hidden section differentiates sum(v**3) at a literal 2 x 2 point, so every run is the same run"
    ),
    "test_tape": Drawn(100, why_fewer="a draw costs about 23 ms (two TensorFlow tapes, then finite differences of every weight)"),
    "test_perceptron": Drawn(),
    "test_momentum": Drawn(),
    "test_train_sgd": Drawn(inputs=least_squares_data),
    "test_vanishing": Drawn(300, why_fewer="a draw costs about 5 ms (finite differences of three weight matrices)"),
}
