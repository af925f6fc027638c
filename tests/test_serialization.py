"""Checkpoints: round trips, the atomic write, and files that must be refused."""

import os
import zipfile

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.serialization import CheckpointError


def sample():
    mg.manual_seed(1)
    model = nn.LSTM(2, 3)
    opt = optim.Adam(model.parameters())
    model(mg.randn(4, 1, 2))[0].sum().backward()
    opt.step()
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "step": 7,
        "loss": 1.25,
        "rng": mg.get_rng_state(),
        "config": {"model": "lstm", "layers": (1, 2), "clip": None, "ok": True, "lr": float("inf")},
        "vocab": ["a", "b", "\n"],
        "f32": np.ones(2, dtype=np.float32),
        "tensor": mg.tensor([1, 2]),
    }


def assert_same(a, b):
    assert type(a) is type(b) or isinstance(a, np.ndarray) and isinstance(b, mg.Tensor) is False
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    else:
        assert a == b


def test_a_nested_structure_round_trips_with_types_and_dtypes(tmp_path):
    obj = sample()
    mg.save(obj, tmp_path / "ck.npz")
    back = mg.load(tmp_path / "ck.npz")
    assert isinstance(back["tensor"], np.ndarray) and back["tensor"].tolist() == [1, 2]
    del obj["tensor"], back["tensor"]
    obj["model"] = dict(obj["model"])
    assert_same(obj, back)
    assert back["optimizer"]["state"][0]["step"] == 1.0  # int keys survive


def test_a_loaded_model_and_optimiser_continue_exactly(tmp_path):
    obj = sample()
    mg.save(obj, tmp_path / "ck.npz")
    back = mg.load(tmp_path / "ck.npz")
    model = nn.LSTM(2, 3)
    model.load_state_dict(back["model"])
    opt = optim.Adam(model.parameters())
    opt.load_state_dict(back["optimizer"])
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in obj["model"].items())


def test_the_rng_state_restores_the_random_stream(tmp_path):
    mg.manual_seed(4)
    mg.save({"rng": mg.get_rng_state()}, tmp_path / "r.npz")
    expected = mg.randn(5).data
    mg.set_rng_state(mg.load(tmp_path / "r.npz")["rng"])
    assert np.array_equal(mg.randn(5).data, expected)


def test_a_crash_during_the_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    mg.save({"version": 1}, path)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"version": 2}, path)
    monkeypatch.undo()
    assert mg.load(path) == {"version": 1}
    assert os.listdir(tmp_path) == ["ck.npz"]  # no temporary file left behind


def test_a_crash_before_the_rename_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    mg.save({"version": 1}, path)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk gone")))
    with pytest.raises(OSError, match="disk gone"):
        mg.save({"version": 2}, path)
    monkeypatch.undo()
    assert mg.load(path) == {"version": 1} and os.listdir(tmp_path) == ["ck.npz"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_saved_file_gets_the_mode_the_umask_gives_any_new_file(tmp_path, umask):
    previous = os.umask(umask)
    try:
        mg.save({"version": 1}, tmp_path / "ck.npz")
    finally:
        os.umask(previous)
    assert os.stat(tmp_path / "ck.npz").st_mode & 0o777 == 0o666 & ~umask


def test_unsupported_objects_are_refused_at_save_time(tmp_path):
    with pytest.raises(TypeError, match=r"save: cannot store an object of type set at <root>.bad"):
        mg.save({"bad": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="save: cannot store an array of dtype object"):
        mg.save({"bad": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        mg.save({(1, 2): 3}, tmp_path / "x.npz")
    assert not list(tmp_path.iterdir())


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*nothing.npz"):
        mg.load(tmp_path / "nothing.npz")


def test_a_pickled_file_is_refused_and_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(
        CheckpointError, match=r"evil.npz (is not a minigrad checkpoint|holds pickled)"
    ):
        mg.load(path)
    np.savez(path, __minigrad__=np.array("{}"), payload=np.array([object()], dtype=object))
    with pytest.raises(CheckpointError, match="evil.npz holds pickled objects"):
        mg.load(path)


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    mg.save(sample(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="ck.npz is truncated or corrupt"):
        mg.load(path)


def test_a_file_of_garbage_or_of_another_kind_is_refused(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="garbage.npz"):
        mg.load(garbage)
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.ones(2))
    with pytest.raises(CheckpointError, match="plain.npz is not a minigrad checkpoint"):
        mg.load(plain)
    other = tmp_path / "other.npz"
    np.savez(other, __minigrad__=np.array('{"format": "something-else"}'))
    with pytest.raises(CheckpointError, match="other.npz is not a minigrad checkpoint"):
        mg.load(other)
    future = tmp_path / "future.npz"
    np.savez(future, __minigrad__=np.array('{"format": "minigrad-checkpoint", "version": 99}'))
    with pytest.raises(CheckpointError, match="future.npz has checkpoint format version 99"):
        mg.load(future)
    damaged = tmp_path / "damaged.npz"
    np.savez(
        damaged,
        __minigrad__=np.array(
            '{"format": "minigrad-checkpoint", "version": 1, "tree": {"__array__": "a9"}}'
        ),
    )
    with pytest.raises(CheckpointError, match="damaged.npz has a damaged manifest"):
        mg.load(damaged)
    with zipfile.ZipFile(tmp_path / "bad_json.npz", "w") as zf:
        zf.writestr("__minigrad__.npy", b"\x93NUMPY broken")
    with pytest.raises(CheckpointError, match="bad_json.npz"):
        mg.load(tmp_path / "bad_json.npz")
