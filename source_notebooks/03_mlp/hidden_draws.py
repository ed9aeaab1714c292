"""The draws of 03's hidden tests (see autograder/hidden_draws.py): every hidden cell, run on the answer key.

Read by the grader's tests only; nbgrader_config.py keeps this file out of the student release.
"""

from autograder.hidden_draws import Drawn, Excused

# The mutation suite's setup without the `data` cell: no drawn cell reads Fashion-MNIST, so the draws run without the data files.
SETUP = ("setup", "spec", "valley", "schedule_helpers")

CELLS = {
    "test_sequential": Excused("no random input: the hidden section checks the layers of two architectures written in the cell"),
    "test_functional": Excused("no random input: the hidden section checks the layers of two architectures written in the cell"),
    "test_activations": Excused(
        "its probe trains a model for an epoch on Fashion-MNIST, and its numerical check compares Keras's own val_loss with the "
        "cross-entropy of Keras's predictions (rtol 1e-3): the answer key's part is the call to model.fit, not arithmetic to redraw"
    ),
    "test_momentum_by_hand": Drawn(),
    "test_momentum_keras": Drawn(40, why_fewer="a draw costs about 50 ms (15 eager steps of keras.optimizers.SGD, twice)"),
    "test_schedule_callbacks": Excused("no random input: the schedule is read at fixed steps of a fixed run length"),
    "test_top_confusions": Drawn(),
}
