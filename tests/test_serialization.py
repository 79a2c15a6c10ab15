"""cr.save / cr.load: exact round trips through safetensors, checked loading, no pickle."""

import os
import pickle
import stat

import numpy as np
import pytest

import chainrule as cr
from chainrule import serialization
from chainrule.serialization import SerializationError, check_state_dict


class TinyModel:
    """The part of a Module that saving and loading use: state_dict / load_state_dict."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.w = cr.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
        self.b = cr.tensor(rng.standard_normal(2), requires_grad=True)
        self.steps = cr.tensor(np.array(7, dtype=np.int64))

    def state_dict(self):
        return {"layer.weight": self.w, "layer.bias": self.b, "steps": self.steps}

    def load_state_dict(self, state, strict=True):
        self.w.data = state["layer.weight"].numpy().copy()
        self.b.data = state["layer.bias"].numpy().copy()
        self.steps.data = state["steps"].numpy().copy()


def special_values(dtype):
    info = np.finfo(dtype)
    values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, info.max, 1 / 3],
                      dtype=dtype)
    # a NaN with a payload: the exact bits must survive too
    bits = values.view(f"u{values.itemsize}")
    bits[4] |= 1
    return values


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_round_trip_is_bit_for_bit(tmp_path, dtype):
    state = {"special": special_values(dtype),
             "random": np.random.default_rng(0).standard_normal((4, 5)).astype(dtype),
             "scalar": np.array(2.5, dtype=dtype), "empty": np.zeros((0, 3), dtype=dtype)}
    path = tmp_path / "m.safetensors"
    cr.save(state, path)
    loaded = cr.load(path)
    assert set(loaded) == set(state)
    for name, array in state.items():
        got = loaded[name]
        assert isinstance(got, cr.Tensor) and got.dtype == array.dtype
        assert got.shape == array.shape
        assert got.numpy().tobytes() == array.tobytes(), name


def test_other_dtypes_and_tensors_and_views(tmp_path):
    x = np.arange(12.0).reshape(3, 4)
    state = {"ints": np.arange(5, dtype=np.int64), "flags": np.array([True, False]),
             "tensor": cr.tensor([1.0, 2.0], requires_grad=True), "view": x.T}
    cr.save(state, tmp_path / "m.safetensors", metadata={"epoch": "3"})
    loaded = cr.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded["view"].numpy(), x.T)
    assert loaded["flags"].dtype == np.bool_ and loaded["ints"].tolist() == [0, 1, 2, 3, 4]
    assert loaded["tensor"].tolist() == [1.0, 2.0] and not loaded["tensor"].requires_grad
    loaded["view"].numpy()[0, 0] = 5.0  # writable arrays of its own


def test_model_round_trip(tmp_path):
    model, other = TinyModel(0), TinyModel(1)
    cr.save(model, tmp_path / "m.safetensors")
    other.load_state_dict(cr.load(tmp_path / "m.safetensors"))
    for name, value in model.state_dict().items():
        assert other.state_dict()[name].numpy().tobytes() == value.numpy().tobytes()
    third = TinyModel(2)
    cr.load(tmp_path / "m.safetensors", model=third)
    assert third.w.numpy().tobytes() == model.w.numpy().tobytes()


@pytest.mark.parametrize("edit,match", [
    (lambda s: s.pop("layer.bias"), "missing 'layer.bias'"),
    (lambda s: s.update(extra=np.zeros(1)), "unexpected 'extra'"),
    (lambda s: s.update({"layer.weight": np.zeros((2, 3), np.float32)}),
     r"'layer.weight' has shape \(2, 3\), the model expects \(3, 2\)"),
    (lambda s: s.update({"layer.weight": np.zeros((3, 2), np.float64)}),
     "'layer.weight' has dtype float64, the model expects float32"),
])
def test_mismatched_file_changes_nothing(tmp_path, edit, match):
    state = {k: v.numpy() for k, v in TinyModel(1).state_dict().items()}
    edit(state)
    cr.save(state, tmp_path / "m.safetensors")
    model = TinyModel(0)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(SerializationError, match=match):
        cr.load(tmp_path / "m.safetensors", model=model)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name])


def test_non_strict_allows_extra_names(tmp_path):
    state = {k: v.numpy() for k, v in TinyModel(1).state_dict().items()}
    state["extra"] = np.zeros(1)
    cr.save(state, tmp_path / "m.safetensors")
    model = TinyModel(0)
    cr.load(tmp_path / "m.safetensors", model=model, strict=False)
    np.testing.assert_array_equal(model.b.numpy(), state["layer.bias"])


def test_check_lists_every_problem():
    with pytest.raises(SerializationError) as info:
        check_state_dict({"a": np.zeros(2), "b": np.zeros(2), "c": np.zeros(2)},
                         {"a": np.zeros(3), "c": np.zeros(2, np.float32), "d": np.zeros(1)})
    message = str(info.value)
    for part in ["missing 'b'", "unexpected 'd'", "'a' has shape", "'c' has dtype"]:
        assert part in message


def test_corrupt_and_truncated_files(tmp_path):
    cr.save(TinyModel(), tmp_path / "good.safetensors")
    raw = (tmp_path / "good.safetensors").read_bytes()
    (tmp_path / "truncated.safetensors").write_bytes(raw[:-5])
    (tmp_path / "garbage.safetensors").write_bytes(b"\x00\x01not a model" * 10)
    (tmp_path / "empty.safetensors").write_bytes(b"")
    for name in ["truncated", "garbage", "empty"]:
        with pytest.raises(SerializationError, match="not a valid safetensors file"):
            cr.load(tmp_path / f"{name}.safetensors")
    with pytest.raises(FileNotFoundError, match="no such file"):
        cr.load(tmp_path / "missing.safetensors")


def test_a_pickle_is_never_unpickled(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.makedirs, (str(tmp_path / "pwned"),))

    (tmp_path / "evil.safetensors").write_bytes(pickle.dumps({"w": Boom()}))
    with pytest.raises(SerializationError):
        cr.load(tmp_path / "evil.safetensors")
    assert not (tmp_path / "pwned").exists()


def test_save_refuses_bad_contents(tmp_path):
    with pytest.raises(TypeError, match="names must be strings"):
        cr.save({1: np.zeros(2)}, tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="complex128"):
        cr.save({"z": np.zeros(2, dtype=np.complex128)}, tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="expected a model"):
        cr.save([np.zeros(2)], tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="metadata"):
        cr.save({"w": np.zeros(2)}, tmp_path / "m.safetensors", metadata={"epoch": 3})
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    cr.save({"w": np.ones(2)}, path)

    def broken(arrays, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    import safetensors.numpy
    monkeypatch.setattr(safetensors.numpy, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        serialization.save({"w": np.zeros(2)}, path)
    assert os.listdir(tmp_path) == ["m.safetensors"]
    monkeypatch.undo()
    assert cr.load(path)["w"].tolist() == [1.0, 1.0]


def small_net(hidden=6):
    from chainrule import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4))
            self.lstm = nn.LSTM(4, hidden, batch_first=True)
            self.head = nn.Linear(hidden, 3, dtype="float64")

    return Net()


def test_nn_module_round_trip_bit_for_bit(tmp_path):
    cr.random.seed(0)
    model = small_net()
    model.conv[1].running_mean.data[:] = [0.1, 0.2, 0.3, 0.4]  # a buffer, saved too
    cr.random.seed(1)
    other = small_net()
    cr.save(model, tmp_path / "net.safetensors")
    other.load_state_dict(cr.load(tmp_path / "net.safetensors"))
    ours, theirs = model.state_dict(), other.state_dict()
    assert list(ours) == list(theirs) and "conv.1.running_mean" in ours
    for name, value in ours.items():
        assert theirs[name].dtype == value.dtype
        assert theirs[name].numpy().tobytes() == value.numpy().tobytes(), name
    assert other.head.weight.dtype == np.float64


def test_nn_module_mismatch_is_refused_whole(tmp_path):
    cr.random.seed(0)
    cr.save(small_net(hidden=6), tmp_path / "net.safetensors")
    model = small_net(hidden=5)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(SerializationError, match=r"'lstm.weight_ih_l0' has shape \(24, 4\), "
                                                 r"the model expects \(20, 4\)"):
        cr.load(tmp_path / "net.safetensors", model=model)
    with pytest.raises(ValueError, match="nothing was loaded"):
        model.load_state_dict(cr.load(tmp_path / "net.safetensors"))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name])


@pytest.mark.parametrize("where, kind, reason", [
    ("somefile.txt/model.safetensors", NotADirectoryError, "is a file, not a folder"),
    ("somefile.txt/deeper/model.safetensors", NotADirectoryError, "is a file, not a folder"),
    ("no-such-folder/model.safetensors", FileNotFoundError, "does not exist"),
])
def test_unwritable_path_names_the_users_path(tmp_path, where, kind, reason):
    (tmp_path / "somefile.txt").write_text("a file")
    path = tmp_path / where
    with pytest.raises(kind) as info:
        cr.save({"w": np.ones(2)}, path)
    message = str(info.value)
    assert message.startswith(f"save: cannot write {str(path)!r}: ") and reason in message
    assert ".chainrule-" not in message and ".tmp" not in message  # no internal file named
    assert sorted(os.listdir(tmp_path)) == ["somefile.txt"]


def test_a_folder_is_not_a_file_name(tmp_path):
    with pytest.raises(IsADirectoryError, match="it is a folder; give a file name"):
        cr.save({"w": np.ones(2)}, tmp_path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_get_the_umask_like_open(tmp_path, umask):
    old = os.umask(umask)
    try:
        cr.save({"w": np.ones(2)}, tmp_path / "m.safetensors")
        with open(tmp_path / "plain.bin", "wb"):
            pass
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "m.safetensors").st_mode)
    assert mode == 0o666 & ~umask == stat.S_IMODE(os.stat(tmp_path / "plain.bin").st_mode)


def test_overwriting_keeps_the_files_mode(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save({"w": np.ones(2)}, path)
    os.chmod(path, 0o640)
    cr.save({"w": np.zeros(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert cr.load(path)["w"].tolist() == [0.0, 0.0]
