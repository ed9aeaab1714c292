"""train_or_restore: trains once, restores when nothing changed, refuses what is not weights, audits honestly.

Small Keras models on synthetic data, so each case takes about a second.
"""

import json
import pickle

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 8)).astype("float32")
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype("int64")
EPOCHS = 4


@pytest.fixture(autouse=True)
def in_a_folder(tmp_path, monkeypatch):
    from autograder.runtime import seed_everything

    monkeypatch.chdir(tmp_path)
    for variable in ("DLCOURSE_TRAINING", "DLCOURSE_TRAINING_LOG", "DLCOURSE_SEED", "DLCOURSE_TRAINED_MODELS", "DLCOURSE_MAX_WEIGHTS_MB"):
        monkeypatch.delenv(variable, raising=False)
    seed_everything(0)
    return tmp_path


def build(units=16):
    import keras

    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(units, activation="relu"), keras.layers.Dense(2, activation="softmax")])


def fit_short(model):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(X, Y, epochs=EPOCHS, batch_size=32, verbose=0)


def fit_long(model):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(X, Y, epochs=4 * EPOCHS, batch_size=32, verbose=0)


def fit_weak(model):
    import keras

    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(X, Y, epochs=1, batch_size=32, verbose=0)


def train(name="tiny", fit=fit_short, units=16, seed=0):
    from autograder.runtime import seed_everything
    from autograder.training import train_or_restore

    seed_everything(seed)
    model = build(units)
    return model, train_or_restore(name, model, fit, data=(X, Y))


def forge_record(name, model, fit):
    """What a student who edits the record by hand does: claim the fingerprint of ``fit`` for weights it did not train."""
    from autograder.training import fingerprint, record_path

    record = json.loads(record_path(name).read_text())
    record["fingerprint"] = fingerprint(model, fit, (X, Y))
    record_path(name).write_text(json.dumps(record))


def log_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_trains_then_restores_the_same_weights_and_history(in_a_folder, capsys):
    first_model, first = train()
    assert first.outcome == "trained" and (in_a_folder / "trained_models" / "tiny.weights.h5").exists()
    second_model, second = train()
    assert second.restored, second.reason
    assert "restored the weights trained before" in capsys.readouterr().out
    assert second.history.history == {k: [float(v) for v in values] for k, values in first.history.history.items()}
    assert second.seconds == pytest.approx(first.seconds, abs=0.01)
    for a, b in zip(first_model.get_weights(), second_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert second_model.optimizer is not None, "the student's code still compiles the model on restore"
    record = json.loads((in_a_folder / "trained_models" / "tiny.json").read_text())
    assert record["fit"][0]["epochs"] == EPOCHS and record["fit"][0]["batch_size"] == 32 and record["fit"][0]["examples"] == len(X)
    assert "Adam" in record["optimizer"] and record["machine"]["keras"]


def test_the_fingerprint_ignores_layer_names_numbered_by_the_session():
    import keras

    from autograder.training import fingerprint

    before = fingerprint(build(), fit_short, (X, Y))
    for _ in range(3):
        keras.layers.Dense(2)
        build()
    assert fingerprint(build(), fit_short, (X, Y)) == before


def test_the_fingerprint_covers_a_train_step_written_in_the_notebook():
    import keras

    from autograder.training import fingerprint

    class Clipped(keras.Model):
        __module__ = "__main__"  # as if defined in a notebook cell

        def train_step(self, data):
            return super().train_step(data)

    class Unclipped(keras.Model):
        __module__ = "__main__"

        def train_step(self, data):
            return {}

    def make(cls):
        inputs = keras.Input((8,))
        return cls(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(16, activation="relu")(inputs)))

    clipped, unclipped, plain = (fingerprint(make(cls), fit_short, (X, Y)) for cls in (Clipped, Unclipped, keras.Model))
    assert clipped["code"] != unclipped["code"] != plain["code"], "editing the notebook's train_step must train again"
    assert clipped["architecture"] == unclipped["architecture"] == plain["architecture"]
    assert plain["code"] == fingerprint(build(), fit_short, (X, Y))["code"], "Keras's own classes add nothing to the code's digest"


@pytest.mark.parametrize(
    "change,words",
    [
        ({"fit": fit_long}, "the training code"),
        ({"units": 12}, "the model built now is not the one that was trained"),
        ({"seed": 1}, None),  # the seed is in the fingerprint only through DLCOURSE_SEED
    ],
)
def test_a_change_after_training_trains_again_and_says_why(change, words, monkeypatch, capsys):
    train()
    if words is None:
        monkeypatch.setenv("DLCOURSE_SEED", "7")
        words = "the seed (DLCOURSE_SEED) differs"
    _, run = train(**change)
    assert run.outcome == "trained" and words in run.reason
    assert words in capsys.readouterr().out


def test_edited_data_trains_again(capsys):
    from autograder.training import train_or_restore

    train()
    run = train_or_restore("tiny", build(), fit_short, data=(X[:-1], Y[:-1]))
    assert run.outcome == "trained" and "training data differ" in run.reason


def test_weights_of_another_architecture_are_refused_with_the_reason(in_a_folder):
    from autograder.training import weights_path

    train(name="tiny", units=16)
    bigger, _ = train(name="other", units=24)
    weights_path("tiny").write_bytes(weights_path("other").read_bytes())  # and keep tiny's record: the fingerprint still matches
    _, run = train(name="tiny", units=16)
    assert run.outcome == "trained"
    assert run.reason.startswith("refused") and "does not fit the model" in run.reason


def _keras_file_with_a_lambda(marker):
    import keras

    def side_effect(x):
        with open(marker, "w") as handle:
            handle.write("ran")
        return x

    model = keras.Sequential([keras.Input((8,)), keras.layers.Lambda(side_effect), keras.layers.Dense(2)])
    model.save("payload.keras")
    (marker).unlink(missing_ok=True)  # saving traced the Lambda once: only what happens from here counts
    return "payload.keras"


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.write_text, (pathlib.Path(self.marker), "ran"))


@pytest.mark.parametrize("kind", ["keras file with a Lambda layer", "pickle"])
def test_payloads_named_as_weights_never_run(in_a_folder, kind):
    from autograder.training import weights_path

    marker = in_a_folder / "payload_ran"
    train()
    if kind == "pickle":
        data = pickle.dumps(_Payload(marker))
    else:
        data = (in_a_folder / _keras_file_with_a_lambda(marker)).read_bytes()
    weights_path("tiny").write_bytes(data)
    _, run = train()
    assert not marker.exists(), f"the {kind} ran"
    assert run.outcome == "trained" and "is not a Keras weights file" in run.reason


def test_a_file_over_the_size_cap_is_refused(monkeypatch):
    train()
    monkeypatch.setenv("DLCOURSE_MAX_WEIGHTS_MB", "0.001")
    _, run = train()
    assert run.outcome == "trained" and "over the" in run.reason and "cap" in run.reason


def test_restore_logs_for_the_grader(in_a_folder, monkeypatch):
    log = in_a_folder / "training.jsonl"
    monkeypatch.setenv("DLCOURSE_TRAINING_LOG", str(log))
    train()
    train()
    assert [line["outcome"] for line in log_lines(log)] == ["trained", "restored"]


def test_an_honest_submission_passes_its_audit(in_a_folder, monkeypatch):
    train()
    log = in_a_folder / "training.jsonl"
    monkeypatch.setenv("DLCOURSE_TRAINING", "audit")
    monkeypatch.setenv("DLCOURSE_TRAINING_LOG", str(log))
    _, run = train()
    assert run.outcome == "audited" and run.audit["verdict"] in ("bit-equal", "within tolerance")
    assert log_lines(log)[0]["audit"]["verdict"] == run.audit["verdict"]


def test_the_audit_evaluates_a_stateful_model_in_its_own_batch_size_from_a_zero_state():
    import keras

    from autograder.training import audit_metrics

    inputs = keras.Input(batch_shape=(16, 5), dtype="int32")
    hidden = keras.layers.LSTM(4, return_sequences=True, stateful=True)(keras.layers.Embedding(3, 2)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3)(hidden))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).integers(0, 3, (100, 5)).astype("int32")
    first, second = audit_metrics(model, (x, x)), audit_metrics(model, (x, x))
    assert first == second and first["loss"] > 0, "96 examples in batches of 16, each evaluation from a zero state"


def test_the_audit_flags_weights_trained_for_more_epochs_than_the_code_says(monkeypatch):
    model, _ = train(fit=fit_long)
    forge_record("tiny", model, fit_short)
    monkeypatch.setenv("DLCOURSE_TRAINING", "audit")
    _, run = train(fit=fit_short)
    assert run.audit["verdict"] == "mismatch", run.audit
    assert "submitted vs" in run.audit["detail"] and "retrained" in run.audit["detail"]


def test_the_audit_flags_answer_key_weights_copied_into_other_code(monkeypatch):
    key_model, _ = train(fit=fit_long)  # the answer key's weights...
    forge_record("tiny", key_model, fit_weak)  # ...handed in with a student's own, weaker code
    monkeypatch.setenv("DLCOURSE_TRAINING", "audit")
    _, run = train(fit=fit_weak)
    assert run.audit["verdict"] == "mismatch", run.audit


def test_without_fingerprint_trickery_copied_weights_are_simply_not_used():
    train(fit=fit_long)
    _, run = train(fit=fit_weak)
    assert run.outcome == "trained" and "the training code" in run.reason


def test_audit_without_weights_says_so(monkeypatch):
    monkeypatch.setenv("DLCOURSE_TRAINING", "audit")
    _, run = train()
    assert run.audit["verdict"] == "no weights submitted"


def test_bad_names_and_arguments_are_explained():
    from autograder.training import train_or_restore

    with pytest.raises(ValueError, match="lower-case"):
        train_or_restore("Small CNN", build(), fit_short, data=(X, Y))
    with pytest.raises(TypeError, match="function model -> History"):
        train_or_restore("tiny", build(), None, data=(X, Y))
