"""Save and load parameters as safetensors files: raw arrays, never pickle.

A pickled model file can run arbitrary code when loaded; a safetensors
file is a JSON header (names, dtypes, shapes) followed by the raw bytes of
each array, so loading only ever reads numbers, and every bit round-trips.
Writing goes to a temporary file that replaces the target at the end, so a
crash never leaves half a model behind; loading into a model checks every
name, shape and dtype before the model is touched.

>>> import os, tempfile, numpy as np, chainrule as cr
>>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
>>> cr.save({"w": np.array([1.5, -2.0], dtype=np.float32)}, path)
>>> cr.load(path)
{'w': tensor([ 1.5, -2. ], dtype=float32)}
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from typing import Any

from chainrule.backend import xp
from chainrule.tensor import Tensor

__all__ = ["save", "load", "check_state_dict", "SerializationError"]

# what safetensors' NumPy API can store (complex128 and object arrays cannot be)
_STORABLE = {"bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
             "float16", "float32", "float64", "complex64"}
_MAX_LISTED = 8  # problems named in one error message


class SerializationError(ValueError):
    """A model file that cannot be read, or whose contents do not fit the model."""


def _array(value: Any, name: str) -> Any:
    data = value
    while isinstance(data, Tensor):
        data = data.data
    data = xp.asarray(data)
    if data.dtype.name not in _STORABLE:
        raise TypeError(f"save: entry {name!r} has dtype {data.dtype}, which safetensors "
                        f"cannot store; supported: {', '.join(sorted(_STORABLE))}")
    return data if data.flags.c_contiguous else data.copy(order="C")


def _state_of(obj: Any) -> Mapping[str, Any]:
    state_dict = getattr(obj, "state_dict", None)
    state = state_dict() if callable(state_dict) else obj
    if not isinstance(state, Mapping):
        raise TypeError(f"save: expected a model (with state_dict()) or a dict of arrays, got "
                        f"{type(obj).__name__}")
    return state


def save(obj: Any, path: str | os.PathLike[str],
         metadata: Mapping[str, str] | None = None) -> None:
    """Write a model's ``state_dict()`` (or a dict name -> tensor/array) to ``path``.

    ``metadata`` (strings only) is stored in the file's header.
    """
    from safetensors.numpy import save_file

    state = _state_of(obj)
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str):
            raise TypeError(f"save: names must be strings, got {name!r}")
        arrays[name] = _array(value, name)
    header = {"format": "chainrule"}
    for key, value in (metadata or {}).items():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise TypeError(f"save: metadata must map strings to strings, got {key!r}: "
                            f"{value!r}")
        header[key] = value
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: cannot write {path!r}: it is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".chainrule-", suffix=".tmp", dir=folder)
    except OSError as err:  # name the user's path, not the temporary file
        raise _save_error(path, folder, err) from None
    os.close(fd)
    try:
        save_file(arrays, tmp, metadata=header)
        os.chmod(tmp, _new_file_mode(path))  # mkstemp makes 0600; open() would not
        os.replace(tmp, path)  # atomic: readers see the old file or the whole new one
    except BaseException as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError):
            raise _save_error(path, folder, err) from None
        raise


def _save_error(path: str, folder: str, err: OSError) -> OSError:
    """The same kind of OSError, naming the path the user gave and why it failed."""
    existing = folder
    while existing and not os.path.exists(existing):
        parent = os.path.dirname(existing)
        existing = "" if parent == existing else parent
    if existing and not os.path.isdir(existing):
        reason = f"{existing!r} is a file, not a folder"
    elif not os.path.isdir(folder):
        reason = f"the folder {folder!r} does not exist"
    else:
        reason = err.strerror or str(err)
    error = type(err)(f"save: cannot write {path!r}: {reason}")
    error.errno = err.errno
    return error


def _new_file_mode(path: str) -> int:
    """The permissions ``open(path, "w")`` would give: an existing file keeps its
    own, a new one gets 0o666 less the process's umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:  # Linux: read it without changing it (changing it races with other threads)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _read(path: str) -> dict[str, Any]:
    from safetensors import SafetensorError, safe_open

    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file {path!r}")
    try:
        with safe_open(path, framework="np") as f:
            return {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except SafetensorError as err:
        raise SerializationError(f"load: {path!r} is not a valid safetensors file "
                                 f"(corrupt or truncated): {err}") from None
    except (OSError, ValueError, TypeError) as err:
        raise SerializationError(f"load: cannot read {path!r} as a safetensors file: "
                                 f"{err}") from None


def check_state_dict(expected: Mapping[str, Any], given: Mapping[str, Any],
                     strict: bool = True, where: str = "load") -> None:
    """Raise one SerializationError listing every missing, unexpected (if ``strict``),
    mis-shaped or mis-typed entry of ``given`` compared with ``expected``.

    >>> import numpy as np
    >>> check_state_dict({"w": np.zeros(2)}, {"w": np.zeros(3)})
    Traceback (most recent call last):
    ...
    chainrule.serialization.SerializationError: load: the file does not fit the model: 'w' ...
    shape (3,), the model expects (2,)
    """
    problems = []
    missing = [name for name in expected if name not in given]
    if missing:
        problems.append(f"missing {', '.join(map(repr, missing))}")
    if strict:
        unexpected = [name for name in given if name not in expected]
        if unexpected:
            problems.append(f"unexpected {', '.join(map(repr, unexpected))}")
    for name, ref in expected.items():
        if name not in given:
            continue
        want, got = _array(ref, name), given[name]
        got = got.data if isinstance(got, Tensor) else xp.asarray(got)
        if got.shape != want.shape:
            problems.append(f"{name!r} has shape {got.shape}, the model expects {want.shape}")
        elif got.dtype != want.dtype:
            problems.append(f"{name!r} has dtype {got.dtype}, the model expects {want.dtype}")
    if problems:
        more = f" (and {len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
        raise SerializationError(f"{where}: the file does not fit the model: "
                                 + "; ".join(problems[:_MAX_LISTED]) + more)


def load(path: str | os.PathLike[str], model: Any = None,
         strict: bool = True) -> dict[str, Tensor]:
    """Read a safetensors file into a dict name -> tensor (exact bits, writable copies).

    With ``model``, the contents are first checked against
    ``model.state_dict()`` (names; with ``strict`` no extra names; shapes;
    dtypes), and only if everything fits are they loaded with
    ``model.load_state_dict``, so a mismatched file changes nothing.
    ``model.load_state_dict(cr.load(path))`` works too.
    """
    state = {name: Tensor._wrap(array, None) for name, array in _read(os.fspath(path)).items()}
    if model is not None:
        check_state_dict(_state_of(model), state, strict=strict)
        model.load_state_dict(state, strict=strict)
    return state
