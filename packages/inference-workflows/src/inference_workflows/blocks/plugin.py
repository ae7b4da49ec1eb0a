"""The built-in blocks, registered through the same hook third-party blocks use."""

from __future__ import annotations

from inference_core.plugins import hookimpl

from inference_workflows.blocks.base import Block
from inference_workflows.blocks.codes import CODE_BLOCKS
from inference_workflows.blocks.fusion import FUSION_BLOCKS
from inference_workflows.blocks.logic import LOGIC_BLOCKS
from inference_workflows.blocks.models import MODEL_BLOCKS
from inference_workflows.blocks.sinks import SINK_BLOCKS
from inference_workflows.blocks.slicing import SLICING_BLOCKS
from inference_workflows.blocks.transformations import TRANSFORMATION_BLOCKS
from inference_workflows.blocks.video import VIDEO_BLOCKS
from inference_workflows.blocks.visualizations import VISUALIZATION_BLOCKS


@hookimpl
def register_workflow_blocks() -> list[type[Block]]:
    return [
        *MODEL_BLOCKS,
        *TRANSFORMATION_BLOCKS,
        *LOGIC_BLOCKS,
        *VISUALIZATION_BLOCKS,
        *VIDEO_BLOCKS,
        *CODE_BLOCKS,
        *SLICING_BLOCKS,
        *FUSION_BLOCKS,
        *SINK_BLOCKS,
    ]
