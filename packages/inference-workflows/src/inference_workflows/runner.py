"""Running a specification in-process: `WorkflowRunner(spec).run(inputs)` gives the same
outputs the server's `/workflows/run` answers.
"""

from __future__ import annotations

from typing import Any

from inference_core.manager import ModelManager

from inference_workflows.blocks.base import Block
from inference_workflows.compiler import CompiledWorkflow, compile_workflow
from inference_workflows.context import WorkflowContext, WorkflowSettings
from inference_workflows.executor import execute
from inference_workflows.inputs import assemble_inputs
from inference_workflows.outputs import build_outputs, exclude_fields
from inference_workflows.registry import BlockRegistry, default_registry


class WorkflowRunner:
    """A compiled specification with its block instances; reuse it to keep per-video state
    (trackers, line counters) across frames."""

    def __init__(
        self,
        specification: dict[str, Any],
        manager: ModelManager | None = None,
        api_key: str | None = None,
        settings: WorkflowSettings | None = None,
        registry: BlockRegistry | None = None,
    ) -> None:
        registry = registry or default_registry()
        self.workflow: CompiledWorkflow = compile_workflow(specification, registry.blocks)
        if manager is None:
            from inference_core.api import default_manager

            manager = default_manager()
        self.context = WorkflowContext(manager, api_key, settings or WorkflowSettings())
        self.blocks: dict[str, Block] = {
            step.name: step.block(step.name, self.context) for step in self.workflow.steps
        }

    def run(
        self,
        inputs: dict[str, Any],
        excluded_fields: list[str] | None = None,
        serialise: bool = True,
        profile: bool = False,
    ) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """One output object per input image (one in all when the workflow takes no images)."""
        values, batch_size = assemble_inputs(
            self.workflow.spec,
            inputs,
            self.context.manager.image_loader,
            self.context.settings.max_batch_size,
        )
        state = execute(self.workflow, values, batch_size, self.blocks)
        outputs = exclude_fields(build_outputs(self.workflow, state, serialise), excluded_fields)
        return (outputs, state.trace) if profile else outputs

    def describe_interface(self) -> dict[str, Any]:
        return self.workflow.describe_interface()


def run_workflow(
    specification: dict[str, Any],
    inputs: dict[str, Any],
    manager: ModelManager | None = None,
    api_key: str | None = None,
    excluded_fields: list[str] | None = None,
    settings: WorkflowSettings | None = None,
) -> list[dict[str, Any]]:
    """Compile and run a specification once; see `WorkflowRunner` to run one many times."""
    runner = WorkflowRunner(specification, manager=manager, api_key=api_key, settings=settings)
    return runner.run(inputs, excluded_fields=excluded_fields)  # type: ignore[return-value]


def validate_workflow(
    specification: dict[str, Any], registry: BlockRegistry | None = None
) -> CompiledWorkflow:
    """Compile without running; raises WorkflowDefinitionError naming the step and field."""
    return compile_workflow(specification, (registry or default_registry()).blocks)
