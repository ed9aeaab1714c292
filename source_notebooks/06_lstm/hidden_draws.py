"""The draws of 06's hidden tests (see autograder/hidden_draws.py): every hidden cell, run on the answer key.

Read by the grader's tests only; nbgrader_config.py keeps this file out of the student release.
The recurrent cells compare with keras.layers.SimpleRNN or LSTM built anew for every problem, and
the backward ones check every weight by finite differences: a draw costs 50 to 200 ms, so they get
tens of draws each, to keep the draw tests within a CI run's budget (about two minutes for all six
assignments on 2 cores).
"""

from autograder.hidden_draws import Drawn, Excused

TRAINED = (
    "it grades a model trained by the notebook, not arithmetic on drawn inputs; its margin over training seeds was measured "
    "separately (the cell says what was measured)"
)
ARCHITECTURE = "no random input: the hidden section checks the layers of architectures written in the cell"

CELLS = {
    "test_simple_rnn": Drawn(40, why_fewer="a draw costs about 60 ms (three keras.layers.SimpleRNN built and run)"),
    "test_lstm_step": Drawn(50, why_fewer="a draw costs about 50 ms (three keras.layers.LSTM built and run)"),
    "test_lstm_forward": Drawn(30, why_fewer="a draw costs about 70 ms (three keras.layers.LSTM built and run over up to 11 steps)"),
    "test_lstm_step_backward": Drawn(
        40, why_fewer="a draw costs about 80 ms (finite differences of every weight, and Keras's LSTM differentiated, three times)"
    ),
    "test_lstm_backward": Drawn(
        20, why_fewer="a draw costs about 0.2 s (finite differences of every weight over up to 9 steps, and Keras's LSTM differentiated)"
    ),
    "test_adding_models": Excused(ARCHITECTURE),
    "test_adding_training": Excused(TRAINED),
    "test_gradient_norms": Drawn(40, why_fewer="a draw costs about 70 ms (a Keras LSTM built, then differentiated per example)"),
    "test_row_lstm": Excused(ARCHITECTURE),
    "test_cudnn": Excused("no random input: the hidden section reads the LSTM's settings (dropout, cuDNN compatibility)"),
    "test_row_accuracy": Excused(TRAINED),
    "test_char_vocabulary": Excused("no random input: the hidden section encodes fixed words chosen for their letters"),
    "test_ngram_baselines": Drawn(60, why_fewer="a draw costs about 85 ms (the loop reference counts 20,000 training ids)"),
    "test_perplexity": Drawn(
        500, why_fewer="a draw costs about 4 ms (Keras's cross-entropy on (3, 9, 27) logits); 500 keep Part F within the budget"
    ),
    "test_clip_by_global_norm": Drawn(80, why_fewer="a draw costs about 40 ms (tf.clip_by_global_norm on up to 40 tensors, five times)"),
    "test_bptt_windows": Drawn(),
    "test_char_lm_model": Excused(ARCHITECTURE),
    "test_train_step": Drawn(4, why_fewer="a draw costs about 0.75 s (two small Keras LSTMs built, differentiated and stepped)"),
    "test_char_lm_perplexity": Excused(TRAINED),
    "test_sample_from_logits": Drawn(150, why_fewer="a draw costs about 22 ms (about 100,000 characters drawn)"),
}
