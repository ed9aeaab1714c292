"""The draws of 03's hidden tests (see autograder/hidden_draws.py): every hidden cell, run on the answer key.

Read by the grader's tests only; nbgrader_config.py keeps this file out of the student release.
"""

from autograder.hidden_draws import Drawn, Excused

# The mutation suite's setup without the `data` and `one_batch` cells: no drawn cell reads Fashion-MNIST, so the draws run
# without the data files. plain_block is there for test_residual_block (build_deep_mlp stacks it).
SETUP = ("setup", "spec", "valley", "schedule_helpers", "plain_block")

CELLS = {
    "test_sequential": Excused("no random input: the hidden section checks the layers of two architectures written in the cell"),
    "test_functional": Excused("no random input: the hidden section checks the layers of two architectures written in the cell"),
    "test_initial_loss": Excused("no random input: the hidden section checks log C at three fixed numbers of classes"),
    "test_overfit_small_batch": Excused(
        "its probe trains a model for 60 epochs on 16 Fashion-MNIST images with random labels: what it checks is that training "
        "memorises them, and its margins over seeds are in assignment.toml [margins], not arithmetic to redraw"
    ),
    "test_activations": Excused(
        "its probe trains a model for an epoch on Fashion-MNIST, and its numerical check compares Keras's own val_loss with the "
        "cross-entropy of Keras's predictions (rtol 1e-3): the answer key's part is the call to model.fit, not arithmetic to redraw"
    ),
    "test_saturated_fraction": Drawn(),
    "test_layer_gradients": Drawn(40, why_fewer="a draw builds a Keras model with a skip connection and runs two gradient tapes, about 0.2 s"),
    "test_momentum_by_hand": Drawn(),
    "test_momentum_keras": Drawn(40, why_fewer="a draw costs about 50 ms (15 eager steps of keras.optimizers.SGD, twice)"),
    "test_residual_block": Drawn(20, why_fewer="a draw builds four deep Keras models and runs them, about 1 s"),
    "test_schedule_callbacks": Excused("no random input: the schedule is read at fixed steps of a fixed run length"),
    "test_search": Excused(
        "its probe trains small MLPs on Fashion-MNIST: what it checks is the protocol (which arrays, optimizers and models search "
        "uses), and its score margins over seeds are in assignment.toml [margins], not arithmetic to redraw"
    ),
    "test_top_confusions": Drawn(),
}
