"""VisionHost Workflows: Roboflow's JSON workflow specifications, run in-process or by the server."""

from inference_workflows.context import WorkflowSettings
from inference_workflows.errors import (
    RuntimeInputError,
    StepExecutionError,
    WorkflowDefinitionError,
    WorkflowError,
)
from inference_workflows.runner import WorkflowRunner, run_workflow, validate_workflow

__all__ = [
    "RuntimeInputError",
    "StepExecutionError",
    "WorkflowDefinitionError",
    "WorkflowError",
    "WorkflowRunner",
    "WorkflowSettings",
    "run_workflow",
    "validate_workflow",
]
