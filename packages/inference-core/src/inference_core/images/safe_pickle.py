"""Rebuild a pickled numpy array without ever running code from the payload.

The payload never reaches a real numpy constructor. The few globals `pickle.dumps(ndarray)`
refers to resolve to stand-ins that only record their arguments; the array is then built here,
from scratch, and only when it is a plain numeric array (bool, int, uint, float) whose raw bytes
are exactly shape x item size. So no stride, offset, dtype rewrite or buffer trick in the payload
can make a view larger than the bytes sent. Everything else is a 400.
"""

from __future__ import annotations

import codecs
import io
import math
import pickle
import re
from typing import Any

import numpy as np

from inference_core.errors import ImageDecodeError

#: Most dimensions an image array can have (H, W, C).
MAX_DIMENSIONS = 3
_PLAIN_DTYPE = re.compile(r"[biuf][1248]\Z")
_BYTE_ORDERS = {"<", ">", "|", "="}


class _Refused(Exception):
    """The payload is not a plain numeric array pickle."""


class _NdarrayClass:
    """Stands in for `numpy.ndarray`: only ever passed to `_reconstruct`, never callable."""


class _DtypeSpec:
    """What `numpy.dtype(code, align, copy)` plus its BUILD state asked for."""

    def __init__(self, code: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(code, str) or not _PLAIN_DTYPE.match(code) or align is not False:
            raise _Refused(f"dtype {code!r} is not a plain numeric type")
        self.code = code
        self.byte_order = "|"

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 8 or state[1] not in _BYTE_ORDERS:
            raise _Refused("unexpected dtype state")
        _, byte_order, subarray, names, fields, item_size, alignment, _flags = state
        if subarray is not None or names is not None or fields is not None:
            raise _Refused("structured and sub-array dtypes are not allowed")
        if item_size != -1 or alignment != -1:
            raise _Refused("dtype item size and alignment may not be rewritten")
        self.byte_order = byte_order

    def resolve(self) -> np.dtype:
        order = self.byte_order if self.byte_order in "<>" and self.code[1] != "1" else "="
        return np.dtype(order + self.code)


class _ArraySpec:
    """What `_reconstruct(ndarray, (0,), b'b')` plus its BUILD state asked for."""

    def __init__(self, cls: Any, shape: Any = None, typecode: Any = None) -> None:
        if not isinstance(cls, _NdarrayClass):
            raise _Refused("only numpy.ndarray can be reconstructed")
        self.state: tuple | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5 or self.state is not None:
            raise _Refused("unexpected array state")
        self.state = state

    def build(self) -> np.ndarray:
        if self.state is None:
            raise _Refused("the array has no data")
        _version, shape, dtype, is_fortran, raw = self.state
        return _build(raw, dtype, shape, "F" if is_fortran is True else "C")


def _frombuffer(raw: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """Stands in for numpy's `_frombuffer` (protocol 5 pickles)."""
    return _build(raw, dtype, shape, order)


def _build(raw: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    if not isinstance(dtype, _DtypeSpec):
        raise _Refused("the array's dtype is not a plain numeric dtype")
    if isinstance(raw, bytearray):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        raise _Refused("the array data must be bytes")
    if not isinstance(shape, tuple) or not 1 <= len(shape) <= MAX_DIMENSIONS:
        raise _Refused(f"the array must have 1 to {MAX_DIMENSIONS} dimensions")
    if not all(type(size) is int and size >= 0 for size in shape):
        raise _Refused("the array shape must be non-negative whole numbers")
    if order not in ("C", "F"):
        raise _Refused("the array order must be C or F")
    resolved = dtype.resolve()
    if math.prod(shape) * resolved.itemsize != len(raw):
        raise _Refused("the array data does not match its shape and dtype")
    return np.frombuffer(raw, dtype=resolved).reshape(shape, order=order)


def _latin1_encode(text: Any, encoding: Any = "latin1") -> bytes:
    # Protocol 2 pickles store bytes as latin-1 text via `_codecs.encode`; allow nothing else.
    if not isinstance(text, str) or encoding not in {"latin1", "latin-1"}:
        raise _Refused("only latin-1 text can be encoded")
    return codecs.encode(text, "latin1")


_NDARRAY = _NdarrayClass()
_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeSpec,
    ("numpy.core.multiarray", "_reconstruct"): _ArraySpec,
    ("numpy._core.multiarray", "_reconstruct"): _ArraySpec,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("_codecs", "encode"): _latin1_encode,
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise _Refused(f"global '{module}.{name}' is not allowed") from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("persistent references are not allowed")


def load_numpy_pickle(payload: bytes) -> np.ndarray:
    """The array in `pickle.dumps(array)`, or an ImageDecodeError (400)."""
    try:
        result = _ArrayOnlyUnpickler(io.BytesIO(payload)).load()
        array = result.build() if isinstance(result, _ArraySpec) else result
        if not isinstance(array, np.ndarray):
            raise _Refused("the payload is not a numpy array")
    except Exception as error:  # any failure to unpickle request bytes is bad input
        raise ImageDecodeError(
            "Numpy input must be pickle.dumps() of a plain numeric numpy array with at most "
            f"{MAX_DIMENSIONS} dimensions; this payload was refused ({_reason(error)})."
        ) from None
    return array


def _reason(error: Exception) -> str:
    return (str(error).splitlines()[0][:200] if str(error) else type(error).__name__).rstrip(".")
