"""The draws of 04's hidden tests (see autograder/hidden_draws.py): every hidden cell, run on the answer key.

Read by the grader's tests only; nbgrader_config.py keeps this file out of the student release.
A few cells get fewer than 1,000 draws to keep the draw tests within a CI run's budget (about two
minutes for all six assignments on 2 cores); each says what one draw costs.
"""

from autograder.hidden_draws import Drawn, Excused

# Imports only: no drawn cell reads Fashion-MNIST (the `data` cell), so the draws run without the data files.
SETUP = ("setup",)

CELLS = {
    "test_output_size": Drawn(
        120, why_fewer="a draw costs about 9 ms (20 Keras layers built); the results are integers compared exactly, no tolerance"
    ),
    "test_param_count": Drawn(
        30, why_fewer="a draw costs about 40 ms (10 Keras layers built); the results are integers compared exactly, no tolerance"
    ),
    "test_conv_naive": Drawn(500, why_fewer="a draw costs about 3 ms (six naive convolutions in Python loops)"),
    "test_im2col": Drawn(),
    "test_conv_im2col": Drawn(),
    "test_conv_backward": Drawn(
        50, why_fewer="a draw costs about 65 ms: check_gradient calls tf.nn.conv2d twice per entry of x, w and b, four times"
    ),
    "test_maxpool_forward": Drawn(300, why_fewer="a draw costs about 8 ms (six keras.layers.MaxPooling2D built and called)"),
    "test_maxpool_backward": Drawn(600, why_fewer="a draw costs about 3 ms (five TensorFlow tapes)"),
    "test_connection_mask": Drawn(),
    "test_sparse_conv": Drawn(),
    "test_augmentation": Excused("no numerical check: the hidden section reads the augmentation layers' settings"),
}
