"""Tiny, real ONNX models for segmentation, classification and pose, in Ultralytics' layouts.

Their outputs are fixed (plus a zero-weighted term in the input, so the batch dimension follows
the input): one object at the centre of the 64x64 input with a square mask and three keypoints,
and a classifier that always prefers class 1. They test the server's plumbing for every task,
not accuracy (the trained fixture models in assets/models do that). Built with `onnx`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIZE = 64
ANCHORS = 4
CLASSES = ["circle", "square"]
MASK_COEFFICIENTS = 32
PROTO_SIZE = SIZE // 4
KEYPOINTS = 3
#: The one object, in input pixels: centre x, centre y, width, height.
OBJECT_BOX = (32.0, 32.0, 24.0, 24.0)


def _head(extra_rows: np.ndarray | None) -> np.ndarray:
    """(1, 4 + C + extra, ANCHORS): anchor 0 holds the object with class 0 at 0.9."""
    rows = 4 + len(CLASSES) + (0 if extra_rows is None else extra_rows.shape[0])
    head = np.zeros((1, rows, ANCHORS), np.float32)
    head[0, :4, :] = np.array(OBJECT_BOX, np.float32)[:, None]
    head[0, 4, 0] = 0.9
    if extra_rows is not None:
        head[0, 4 + len(CLASSES) :, 0] = extra_rows
    return head


def _save(path: Path, nodes, outputs, initializers, metadata: dict[str, str]) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=1), *nodes],
        path.stem,
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name, shape in outputs],
        initializer=[numpy_helper.from_array(value, name) for name, value in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    names = {index: name for index, name in enumerate(CLASSES)}
    for key, value in {"names": repr(names), "imgsz": f"[{SIZE}, {SIZE}]", **metadata}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _constant_output(name: str, value: np.ndarray, rank: int) -> tuple[list, dict]:
    """Nodes giving `value` broadcast over the input's batch: mean * 0 + value."""
    import onnx.helper as helper

    reshape = np.array([-1] + [1] * (rank - 1), np.int64)
    nodes = [
        helper.make_node("Reshape", ["mean", f"{name}_shape"], [f"{name}_mean"]),
        helper.make_node("Mul", [f"{name}_mean", f"{name}_zero"], [f"{name}_zeroed"]),
        helper.make_node("Add", [f"{name}_zeroed", f"{name}_value"], [name]),
    ]
    initializers = {
        f"{name}_shape": reshape,
        f"{name}_zero": np.zeros((1,) * rank, np.float32),
        f"{name}_value": value,
    }
    return nodes, initializers


def segmenter(path: Path) -> Path:
    coefficients = np.zeros(MASK_COEFFICIENTS, np.float32)
    coefficients[0] = 1.0
    protos = np.full((1, MASK_COEFFICIENTS, PROTO_SIZE, PROTO_SIZE), -4.0, np.float32)
    low, high = (32 - 12) // 4, (32 + 12) // 4
    protos[0, 0, low:high, low:high] = 4.0  # the object's square, in the 16x16 prototype grid
    head = _head(coefficients)
    head_nodes, head_init = _constant_output("output0", head, 3)
    proto_nodes, proto_init = _constant_output("output1", protos, 4)
    outputs = [("output0", ["batch", *head.shape[1:]]), ("output1", ["batch", *protos.shape[1:]])]
    return _save(
        path,
        head_nodes + proto_nodes,
        outputs,
        {**head_init, **proto_init},
        {"task": "segment", "description": "Ultralytics YOLOv8n-seg model (tiny test stand-in)"},
    )


def pose_detector(path: Path) -> Path:
    keypoints = np.array([[26, 26, 0.9], [38, 26, 0.8], [32, 38, 0.1]], np.float32).reshape(-1)
    head = _head(keypoints)
    nodes, initializers = _constant_output("output0", head, 3)
    return _save(
        path,
        nodes,
        [("output0", ["batch", *head.shape[1:]])],
        initializers,
        {
            "task": "pose",
            "kpt_shape": f"[{KEYPOINTS}, 3]",
            "description": "Ultralytics YOLOv8n-pose model (tiny test stand-in)",
        },
    )


def classifier(path: Path) -> Path:
    probabilities = np.array([[0.2, 0.8]], np.float32)
    nodes, initializers = _constant_output("output0", probabilities, 2)
    return _save(
        path,
        nodes,
        [("output0", ["batch", len(CLASSES)])],
        initializers,
        {"task": "classify", "description": "Ultralytics YOLOv8n-cls model (tiny test stand-in)"},
    )
