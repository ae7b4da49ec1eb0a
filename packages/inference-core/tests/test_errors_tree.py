"""The exception tree drawn at the top of errors.py matches the classes and their statuses."""

from __future__ import annotations

import inspect
import re

from inference_core import errors


def test_every_error_class_is_drawn_with_its_status_and_parent():
    drawing = errors.__doc__
    classes = [item for _, item in inspect.getmembers(errors, inspect.isclass) if issubclass(item, errors.InferenceError)]
    for cls in classes:
        drawn = re.search(rf"\b{cls.__name__} \((\d+)", drawing)
        assert drawn is not None, f"{cls.__name__} is missing from the drawing"
        assert int(drawn.group(1)) == cls.status_code, f"{cls.__name__}: drawn {drawn.group(1)}, is {cls.status_code}"
