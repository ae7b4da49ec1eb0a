"""Blocks are plugins: a third-party block registers through the same hook as the built-ins."""

from __future__ import annotations

import types

from inference_core.plugins import hookimpl
from inference_workflows import WorkflowRunner
from inference_workflows import kinds as K
from inference_workflows.blocks import plugin as builtin
from inference_workflows.blocks.base import Block, Field, Output
from inference_workflows.registry import build_block_registry
from wf_specs import DETECT, image_input, output, spec, step


class CountAbove(Block):
    name = "acme/count_above@v1"
    fields = (Field("predictions", K.DETECTIONS, selector_only=True), Field("threshold", (K.FLOAT,), 0.5))
    outputs = (Output("count", (K.INTEGER,)),)

    def run(self, predictions, threshold):
        return {"count": int((predictions.confidence > threshold).sum())}


class Impostor(Block):
    name = "roboflow_core/dynamic_crop@v1"  # already taken by the built-in block
    outputs = (Output("nothing"),)


def _plugin(*classes):
    module = types.ModuleType("acme_blocks")

    @hookimpl
    def register_workflow_blocks():
        return list(classes)

    module.register_workflow_blocks = register_workflow_blocks
    return module


def test_third_party_block_runs_in_a_workflow(manager, scenes):
    registry = build_block_registry([builtin, _plugin(CountAbove)])
    workflow = spec(
        [image_input()],
        [
            DETECT,
            step("acme/count_above@v1", "above", predictions="$steps.detect.predictions", threshold=0.9),
        ],
        [output("n", "$steps.above.count")],
    )
    result = WorkflowRunner(workflow, manager=manager, registry=registry).run({"image": scenes[0].image})
    direct = manager.get(DETECT["model_id"]).infer(scenes[0].image, confidence=0.5)[0]
    assert result == [{"n": sum(1 for item in direct.predictions if item.confidence > 0.9)}]


def test_duplicate_and_broken_blocks_are_reported_not_loaded():
    registry = build_block_registry([builtin, _plugin(Impostor, object)])
    assert (
        registry.blocks.get("roboflow_core/dynamic_crop@v1").__module__
        == "inference_workflows.blocks.transformations"
    )
    assert any("duplicate" in message for message in registry.failures.values())
    assert any("object" in key for key in registry.failures)


def test_installed_registry_has_the_builtin_blocks():
    registry = build_block_registry()
    assert registry.failures == {}
    assert registry.blocks.get("ObjectDetectionModel") is registry.blocks.get(
        "roboflow_core/roboflow_object_detection_model@v1"
    )
