import gzip
import json
import os

import numpy as np
import pytest

from autograder.data import idx, loaders, synthetic
from autograder.data.manifest import DatasetSpec, FileSpec


def make_dataset(folder, arrays, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    specs = []
    for name, array in arrays.items():
        content = idx.encode(array)
        path = folder / (f"{name}.gz" if compress else name)
        path.write_bytes(gzip.compress(content) if compress else content)
        specs.append(FileSpec(name, len(content), idx.sha256(content)))
    return tuple(specs)


def toy_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (6, 4, 4), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 6, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 4, 4), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3, dtype=np.uint8),
    }


def toy_spec(files):
    return DatasetSpec("toy", "Toy data, 6 + 3 images", "toy", "http://127.0.0.1:9/", (), "make some toy data", tuple("0123456789"), files)


def test_idx_round_trip_and_errors():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(idx.parse(idx.encode(array)), array)
    with pytest.raises(idx.IdxFormatError, match="magic"):
        idx.parse(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(idx.IdxFormatError, match="header declares"):
        idx.parse(idx.encode(array)[:-1])


def test_read_verified_accepts_good_and_plain_files(tmp_path):
    arrays = toy_arrays()
    files = make_dataset(tmp_path / "gz", arrays)
    make_dataset(tmp_path / "plain", arrays, compress=False)
    for folder in ("gz", "plain"):
        got = loaders.read_verified(toy_spec(files), tmp_path / folder)
        for name, array in arrays.items():
            assert np.array_equal(got[name], array)


def test_read_verified_rejects_corrupt_truncated_and_incomplete(tmp_path):
    arrays = toy_arrays()
    files = make_dataset(tmp_path / "d", arrays)
    spec = toy_spec(files)
    other = toy_arrays(seed=1)["t10k-labels-idx1-ubyte"]
    (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx.encode(other)))
    with pytest.raises(loaders._Rejected, match="SHA-256"):
        loaders.read_verified(spec, tmp_path / "d")
    (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx.encode(arrays["t10k-labels-idx1-ubyte"]))[:-9])
    with pytest.raises(loaders._Rejected, match="cannot be read"):
        loaders.read_verified(spec, tmp_path / "d")
    (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(loaders._Rejected, match="incomplete: missing t10k-labels-idx1-ubyte"):
        loaders.read_verified(spec, tmp_path / "d")


@pytest.fixture
def fake_course(tmp_path, monkeypatch):
    """A course root whose manifest lists only the toy data set, with every search place isolated."""
    course = tmp_path / "course"
    (course / "source_notebooks").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    (course / "datasets").mkdir()
    monkeypatch.setenv("DLCOURSE_ROOT", str(course))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("DLCOURSE_OFFLINE", "1")
    monkeypatch.delenv("DLCOURSE_DATA", raising=False)
    files = make_dataset(tmp_path / "elsewhere", toy_arrays())
    manifest = {
        "toy": {
            "title": "Toy data, 6 + 3 images",
            "keras_subdir": "toy",
            "download_url": "http://127.0.0.1:9/",
            "system_dirs": [str(tmp_path / "system")],
            "install_hint": "make some toy data",
            "class_names": list("0123456789"),
            "files": {f.name: {"bytes": f.bytes, "sha256": f.sha256} for f in files},
        }
    }
    (course / "datasets" / "manifest.json").write_text(json.dumps(manifest))
    return course, tmp_path


def test_missing_data_error_names_every_place(fake_course):
    course, tmp = fake_course
    (course / "datasets" / "toy").mkdir()
    with pytest.raises(loaders.DataNotFoundError) as info:
        loaders.locate("toy")
    message = str(info.value)
    for place in (course / "datasets" / "toy", tmp / "keras_home" / "datasets" / "toy", tmp / "system"):
        assert str(place) in message
    assert "folder exists but holds none of the files" in message
    assert "DLCOURSE_OFFLINE" in message and "make some toy data" in message


def test_locate_uses_first_verified_place_and_caches(fake_course, monkeypatch):
    course, tmp = fake_course
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp / "elsewhere"))
    found = loaders.locate("toy")
    assert found.directory == tmp / "elsewhere"
    cached = loaders.copy_to_course_cache(found, course)
    monkeypatch.delenv("DLCOURSE_DATA")
    assert loaders.locate("toy").directory == cached == course / "datasets" / "toy"


@pytest.mark.tensorflow  # the download goes through keras.utils.get_file
def test_offline_download_failure_is_reported(fake_course, monkeypatch):
    monkeypatch.setenv("DLCOURSE_OFFLINE", "0")
    with pytest.raises(loaders.DataNotFoundError, match=r"download from http://127\.0\.0\.1:9/ -> failed"):
        loaders.locate("toy")


def text_course(fake_course, content: bytes):
    """The fake course's manifest with a one-file text data set "words" whose only copy is in a system folder."""
    course, tmp = fake_course
    (tmp / "dict").mkdir()
    (tmp / "dict" / "american-english").write_bytes(content)
    manifest = json.loads((course / "datasets" / "manifest.json").read_text())
    manifest["words"] = {
        "title": "A word list",
        "format": "text",
        "keras_subdir": "words",
        "download_url": "",
        "system_dirs": [str(tmp / "dict")],
        "install_hint": "sudo apt-get install wamerican",
        "class_names": [],
        "files": {"american-english": {"bytes": len(content), "sha256": idx.sha256(content)}},
    }
    (course / "datasets" / "manifest.json").write_text(json.dumps(manifest))
    return course, tmp


def test_text_data_set_is_verified_split_by_digest_and_cached(fake_course, monkeypatch):
    words = ["cat", "cat's", "Paris", "dog", "naïve", "zebra", "dog", "a", "running", ""] + [f"w{'x' * i}" for i in range(40)]
    course, tmp = text_course(fake_course, "\n".join(words).encode())
    monkeypatch.setenv("DLCOURSE_OFFLINE", "0")  # no download is even tried: the set has no URL
    found = loaders.locate("words")
    assert found.directory == tmp / "dict" and isinstance(found.arrays["american-english"], str)
    train, val = loaders.load_words()
    kept = {"cat", "dog", "zebra", "a", "running"} | {f"w{'x' * i}" for i in range(40)}
    assert set(train) | set(val) == kept and not set(train) & set(val) and len(train) + len(val) == len(kept)
    assert train != sorted(train), "the words come in a fixed shuffled order, not alphabetical"
    assert loaders.load_words() == (train, val), "the split and the order are fixed"
    cached = loaders.copy_to_course_cache(found, course)
    assert (cached / "american-english").read_bytes() == (tmp / "dict" / "american-english").read_bytes()


def test_text_data_set_with_another_digest_is_refused(fake_course):
    course, tmp = text_course(fake_course, b"cat\ndog\n")
    (tmp / "dict" / "american-english").write_bytes(b"cat\ndig\n")
    with pytest.raises(loaders.DataNotFoundError) as info:
        loaders.load_words()
    message = str(info.value)
    assert "SHA-256" in message and "sudo apt-get install wamerican" in message and "put the file (american-english)" in message


@pytest.mark.data
def test_debian_word_list_gives_the_english_words():
    train, val = loaders.load_words()
    assert len(train) + len(val) == 63875  # entries of wamerican 2020.12.07-2 made of a-z only
    assert 0.09 < len(val) / (len(train) + len(val)) < 0.11
    assert all(loaders.WORD.fullmatch(w) for w in train + val) and len(set(train + val)) == len(train + val)
    assert {"language", "model"} <= set(train + val)


@pytest.mark.data
def test_fashion_mnist_is_keras_shaped_and_verified():
    (x_train, y_train), (x_test, y_test) = loaders.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.array_equal(np.bincount(y_train), [6000] * 10)
    assert loaders.class_names("fashion_mnist")[9] == "Ankle boot"


@pytest.mark.data
def test_mnist_class_counts_match_the_published_ones():
    try:
        (_, y_train), (_, y_test) = loaders.load_mnist()
    except loaders.DataNotFoundError:
        if os.environ.get("CI"):
            raise  # CI has the course's shared MNIST copy: missing there is a failure, not a skip
        pytest.skip("MNIST is optional and not installed here")
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_synthetic_generators_are_seeded_and_shaped():
    for make in (synthetic.make_xor, synthetic.make_blobs):
        X1, y1 = make(n=50, seed=3)
        X2, y2 = make(n=50, seed=3)
        assert X1.shape == (50, 2) and y1.shape == (50,) and set(np.unique(y1)) <= {0, 1}
        assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
        assert not np.array_equal(X1, make(n=50, seed=4)[0])
    X, y = synthetic.make_spirals(n_per_class=30, n_classes=3, seed=0)
    assert X.shape == (90, 2) and np.bincount(y).tolist() == [30, 30, 30]


def test_xor_labels_follow_the_corners():
    X, y = synthetic.make_xor(n=400, noise=0.05, seed=0)
    corner = np.round(X).astype(int)
    assert np.array_equal(y, corner[:, 0] ^ corner[:, 1])


def test_adding_problem_baseline_is_one_sixth():
    X, y = synthetic.make_adding_problem(n=20000, timesteps=100, seed=0)
    assert X.shape == (20000, 100, 2) and y.shape == (20000, 1) and X.dtype == np.float32
    assert np.all(X[:, :, 1].sum(axis=1) == 2)
    assert np.allclose(y[:, 0], (X[:, :, 0] * X[:, :, 1]).sum(axis=1), atol=1e-6)
    assert abs(float(np.mean((y - 1.0) ** 2)) - 1 / 6) < 0.01
    with pytest.raises(ValueError):
        synthetic.make_adding_problem(timesteps=1)
