"""A tiny but real YOLOv8-layout ONNX detector, for tests that need weights before the trained
fixture models exist. Built with the `onnx` package (a test-only dependency, never core's)."""

from __future__ import annotations

import numpy as np

TINY_CLASSES = ["circle", "square"]
TINY_SIZE = 64
TINY_ANCHORS = 8


def tiny_detector_bytes(classes: list[str] = TINY_CLASSES, ultralytics_metadata: bool = True) -> bytes:
    """`images (1,3,64,64)` -> `output0 (1, 4+C, 8)`: fixed boxes whose scores follow image brightness."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    channels = 4 + len(classes)
    rng = np.random.default_rng(7)
    boxes = np.stack([rng.uniform(16, 48, TINY_ANCHORS), rng.uniform(16, 48, TINY_ANCHORS),
                      rng.uniform(8, 16, TINY_ANCHORS), rng.uniform(8, 16, TINY_ANCHORS)])
    base = np.concatenate([boxes, np.zeros((len(classes), TINY_ANCHORS))]).astype(np.float32)[None]
    gain = np.zeros_like(base)
    gain[0, 4:, :] = np.linspace(0.2, 1.0, TINY_ANCHORS, dtype=np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=1),  # (1,1,1,1)
        helper.make_node("Reshape", ["mean", "shape"], ["mean3"]),  # (1,1,1)
        helper.make_node("Mul", ["mean3", "gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "base"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny-detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, TINY_SIZE, TINY_SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, channels, TINY_ANCHORS])],
        initializer=[
            numpy_helper.from_array(np.array([1, 1, 1], dtype=np.int64), "shape"),
            numpy_helper.from_array(gain, "gain"),
            numpy_helper.from_array(base, "base"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    if ultralytics_metadata:
        names = {index: name for index, name in enumerate(classes)}
        for key, value in {"task": "detect", "names": repr(names), "imgsz": f"[{TINY_SIZE}, {TINY_SIZE}]",
                           "description": "Ultralytics YOLOv8n model (tiny test stand-in)"}.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model.SerializeToString()


def flat_input_detector_bytes() -> bytes:
    """A detector whose input is a flat (1, 12288) vector, not an NCHW image: unsupported."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    base = np.zeros((1, 4 + len(TINY_CLASSES), TINY_ANCHORS), np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["pixels"], ["mean"], keepdims=1),  # (1, 1)
        helper.make_node("Reshape", ["mean", "shape"], ["mean3"]),  # (1, 1, 1)
        helper.make_node("Add", ["mean3", "base"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes, "flat-input-detector",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 3 * TINY_SIZE * TINY_SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(base.shape))],
        initializer=[
            numpy_helper.from_array(np.array([1, 1, 1], dtype=np.int64), "shape"),
            numpy_helper.from_array(base, "base"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    return model.SerializeToString()
