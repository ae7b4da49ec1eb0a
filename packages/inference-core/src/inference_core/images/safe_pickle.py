"""Rebuild a pickled numpy array without ever running code from the payload.

Only the handful of numpy internals that `pickle.dumps(ndarray)` refers to are resolvable;
any other global, and any array that is not plain numbers, is refused.
"""

from __future__ import annotations

import codecs
import io
import pickle

import numpy as np

from inference_core.errors import ImageDecodeError

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    # Protocol 2 pickles store bytes as latin-1 text via `_codecs.encode`; allow nothing else.
    if encoding not in {"latin1", "latin-1"}:
        raise pickle.UnpicklingError("only latin-1 encoding is allowed")
    return codecs.encode(text, "latin1")


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed")


def load_numpy_pickle(payload: bytes) -> np.ndarray:
    try:
        array = _ArrayOnlyUnpickler(io.BytesIO(payload)).load()
    except Exception as error:
        raise ImageDecodeError(
            "Numpy input must be pickle.dumps() of a plain numeric numpy array; "
            f"this payload was refused ({error})."
        ) from error
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ImageDecodeError("Numpy input must be a numeric numpy array (uint8 BGR image).")
    return array
