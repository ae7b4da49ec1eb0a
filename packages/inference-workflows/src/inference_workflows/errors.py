"""Workflow errors: each carries an HTTP status and names the step and field it is about."""

from __future__ import annotations

from inference_core.errors import InferenceError


class WorkflowError(InferenceError):
    """Base of every workflow error; `context` says where (step, field) when known."""

    status_code = 400
    error_type = "WorkflowError"

    def __init__(self, message: str, step: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.field = field

    def to_dict(self) -> dict:
        body = {"message": self.message, "error_type": self.error_type}
        if self.step is not None:
            body["context"] = f"step: {self.step}" + (f", field: {self.field}" if self.field else "")
            body["blocks_errors"] = [{"step_name": self.step, "property_name": self.field}]
        return body


class WorkflowDefinitionError(WorkflowError):
    """The specification itself is wrong: unknown block, bad selector, type mismatch, cycle."""

    error_type = "WorkflowDefinitionError"


class RuntimeInputError(WorkflowError):
    """The run's inputs do not fit the specification (missing image, wrong parameter type)."""

    error_type = "RuntimeInputError"


class StepExecutionError(WorkflowError):
    """A step failed while running; the status is the underlying error's when it had one."""

    error_type = "StepExecutionError"

    def __init__(self, message: str, step: str, status_code: int = 500) -> None:
        super().__init__(message, step=step)
        self.status_code = status_code


class WorkflowNotFoundError(WorkflowError):
    status_code = 404
    error_type = "WorkflowNotFoundError"


def definition_error(step: str | None, field: str | None, problem: str) -> WorkflowDefinitionError:
    """A definition error whose message starts with the step and field it concerns."""
    where = ""
    if step is not None:
        where = f"Step {step!r}" + (f", field {field!r}" if field else "") + ": "
    return WorkflowDefinitionError(where + problem, step=step, field=field)


class SinkNotAllowedError(WorkflowError):
    """A sink block the server's settings keep switched off, or a target outside what they allow."""

    status_code = 403
    error_type = "SinkNotAllowedError"
