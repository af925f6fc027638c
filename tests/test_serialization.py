"""Checkpoints: round trips, the atomic write, and files that must be refused."""

import errno
import io
import os
import pickle
import re
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


def cannot_write(path, reason):
    """The start of save's message for ``path``, as a regex."""
    return f"^save: cannot write {re.escape(str(path))}: {reason}"


def test_unsupported_objects_are_refused_at_save_time(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(
        TypeError, match=cannot_write(path, "cannot store an object of type set at <root>.bad$")
    ):
        mg.save({"bad": {1, 2}}, path)
    with pytest.raises(
        TypeError, match=cannot_write(path, "cannot store an array of dtype object at <root>.bad$")
    ):
        mg.save({"bad": np.array([{}, 1], dtype=object)}, path)
    with pytest.raises(
        TypeError,
        match=cannot_write(path, r"dict keys must be str or int, got \(1, 2\) at <root>$"),
    ):
        mg.save({(1, 2): 3}, path)
    assert not list(tmp_path.iterdir())


def self_containing():
    d = {"step": 1}
    d["self"] = d
    items = [1, 2]
    items.append(items)
    inner = {"b": [0]}
    deep = {"a": inner}
    inner["b"].append(inner)
    box = []
    pair = (1, box)
    box.append(pair)
    return [
        (d, r"<root>.self is <root>"),
        (items, r"<root>\[2\] is <root>"),
        (deep, r"<root>.a.b\[1\] is <root>.a"),
        ({"t": pair}, r"<root>.t\[1\]\[0\] is <root>.t"),
    ]


@pytest.mark.parametrize("obj, where", self_containing(), ids=["dict", "list", "deep", "tuple"])
def test_a_structure_that_contains_itself_is_refused_naming_the_path_and_the_place(
    tmp_path, obj, where
):
    path = tmp_path / "ck.npz"
    with pytest.raises(
        ValueError, match=cannot_write(path, f"the structure contains itself: {where}$")
    ):
        mg.save(obj, path)
    assert not list(tmp_path.iterdir())


def test_the_same_object_twice_is_not_a_cycle(tmp_path):
    shared = [1.0, 2.0]
    mg.save({"a": shared, "b": (shared, shared)}, tmp_path / "ck.npz")
    assert mg.load(tmp_path / "ck.npz") == {"a": shared, "b": (shared, shared)}


def test_saving_into_a_missing_folder_names_the_path_and_the_folder(tmp_path):
    path = tmp_path / "no" / "such" / "ck.npz"
    with pytest.raises(
        FileNotFoundError,
        match=cannot_write(path, f"the folder {re.escape(str(path.parent))} does not exist$"),
    ) as info:
        mg.save({"step": 1}, path)
    assert info.value.errno == errno.ENOENT
    assert not list(tmp_path.iterdir())


def test_saving_onto_a_folder_is_refused_and_the_folder_is_untouched(tmp_path):
    path = tmp_path / "ck.npz"
    path.mkdir()
    with pytest.raises(IsADirectoryError, match=cannot_write(path, "it is a folder$")) as info:
        mg.save({"step": 1}, path)
    assert info.value.errno == errno.EISDIR
    assert os.listdir(tmp_path) == ["ck.npz"] and not list(path.iterdir())


def test_an_error_from_the_system_names_the_users_path_not_the_temporary_file(
    tmp_path, monkeypatch
):
    path = tmp_path / "ck.npz"
    savez = np.savez

    def savez_then_a_folder_takes_the_name(*args, **kwargs):
        savez(*args, **kwargs)
        path.mkdir()  # after the checks: the rename itself fails

    monkeypatch.setattr(np, "savez", savez_then_a_folder_takes_the_name)
    with pytest.raises(IsADirectoryError, match=cannot_write(path, "Is a directory$")) as info:
        mg.save({"step": 1}, path)
    assert info.value.errno == errno.EISDIR and ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == ["ck.npz"] and path.is_dir()  # no temporary file left


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*nothing.npz"):
        mg.load(tmp_path / "nothing.npz")


def test_a_pickled_file_is_refused_and_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(
        CheckpointError, match=r"evil.npz is not a minigrad checkpoint \(no __minigrad__ entry\)"
    ):
        mg.load(path)
    np.savez(path, __minigrad__=np.array("{}"), payload=np.array([object()], dtype=object))
    with pytest.raises(CheckpointError, match="evil.npz holds pickled objects"):
        mg.load(path)


@pytest.mark.parametrize("kept", [0.05, 0.5, 0.95])
def test_a_truncated_file_is_refused(tmp_path, kept):
    path = tmp_path / "ck.npz"
    mg.save(sample(), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * kept)])
    with pytest.raises(CheckpointError, match="ck.npz is truncated or corrupt"):
        mg.load(path)


def npy_bytes(array, **kwargs):
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


NOT_NPZ = {
    "random": np.random.default_rng(0).bytes(4096),
    "text": b"step,loss\n1,0.5\n",
    "empty": b"",
    "npy": npy_bytes(np.ones(3)),
    "npy-of-objects": npy_bytes(np.array([{}], dtype=object), allow_pickle=True),
    "pickle": pickle.dumps({"step": 1}),
}


@pytest.mark.parametrize("kind", NOT_NPZ)
def test_a_file_that_is_not_an_npz_archive_is_named_as_such(tmp_path, kind):
    path = tmp_path / "ck.npz"
    path.write_bytes(NOT_NPZ[kind])
    message = (
        f"^load: {re.escape(str(path))} is not a minigrad checkpoint \\(not an npz archive\\)$"
    )
    with pytest.raises(CheckpointError, match=message):
        mg.load(path)


def test_a_folder_is_not_a_checkpoint(tmp_path):
    with pytest.raises(
        CheckpointError, match=f"^load: cannot read {re.escape(str(tmp_path))}: Is a directory$"
    ):
        mg.load(tmp_path)


def test_a_file_of_garbage_or_of_another_kind_is_refused(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match=r"garbage.npz is not .* \(not an npz archive\)"):
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
