"""`InferenceHTTPClient`: the public face of the client, sync and async.

Each public method picks an operation from `operations.py` and hands it to an executor: the
sync one over a long-lived `httpx.Client`, the async one over an `httpx.AsyncClient` opened per
call (so it works from any event loop). No method's logic lives here, only client state.

httpx is imported on the first call, not on `import inference_sdk`: it is half the import time.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from inference_sdk.config import is_roboflow_hosted
from inference_sdk.http import operations, pipelines, workflows
from inference_sdk.http.entities import (
    HTTPClientMode,
    InferenceConfiguration,
    ModelDescription,
    RegisteredModels,
    ServerInfo,
)
from inference_sdk.http.protocol import Operation, RetryPolicy, T
from inference_sdk.http.streams import frames

if TYPE_CHECKING:
    import httpx
    import numpy as np

InferenceInput = Any  # an ImagesReference (images.py), or a (nested) list of them


class InferenceHTTPClient:
    """Client for a VisionHost or Roboflow Inference server.

    >>> client = InferenceHTTPClient(api_url="http://localhost:9001", api_key="...")
    >>> client.infer("image.jpg", model_id="project/1")

    Keyword-only extras (not in Roboflow's client): `timeout` (seconds or an `httpx.Timeout`;
    default 600 s, 10 s to connect, since loading a model can take minutes), `retry` (a
    `RetryPolicy`) and `transport` (an httpx transport, e.g. `httpx.MockTransport` in tests;
    one serves both the sync and the async methods).
    """

    def __init__(
        self,
        api_url: str,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        transport: Any = None,
    ) -> None:
        self.__api_url = api_url.rstrip("/")
        self.__api_key = api_key
        self.__configuration = InferenceConfiguration.init_default()
        self.__client_mode = HTTPClientMode.V0 if is_roboflow_hosted(api_url) else HTTPClientMode.V1
        self.__selected_model: str | None = None
        self.__retry = retry or RetryPolicy()
        self.__timeout = timeout
        self.__transport = transport
        self.__sync_client: httpx.Client | None = None
        self.__sync_client_lock = threading.Lock()

    @classmethod
    def init(cls, api_url: str, api_key: str | None = None) -> InferenceHTTPClient:
        return cls(api_url=api_url, api_key=api_key)

    # --- State ---------------------------------------------------------------------------------

    @property
    def inference_configuration(self) -> InferenceConfiguration:
        return self.__configuration

    @property
    def client_mode(self) -> HTTPClientMode:
        return self.__client_mode

    @property
    def selected_model(self) -> str | None:
        return self.__selected_model

    def configure(self, inference_configuration: InferenceConfiguration) -> InferenceHTTPClient:
        self.__configuration = inference_configuration
        return self

    @contextmanager
    def use_configuration(
        self, inference_configuration: InferenceConfiguration
    ) -> Generator[InferenceHTTPClient, None, None]:
        previous, self.__configuration = self.__configuration, inference_configuration
        try:
            yield self
        finally:
            self.__configuration = previous

    def select_api_v0(self) -> InferenceHTTPClient:
        self.__client_mode = HTTPClientMode.V0
        return self

    def select_api_v1(self) -> InferenceHTTPClient:
        self.__client_mode = HTTPClientMode.V1
        return self

    @contextmanager
    def use_api_v0(self) -> Generator[InferenceHTTPClient, None, None]:
        with self.__temporary_mode(HTTPClientMode.V0):
            yield self

    @contextmanager
    def use_api_v1(self) -> Generator[InferenceHTTPClient, None, None]:
        with self.__temporary_mode(HTTPClientMode.V1):
            yield self

    def select_model(self, model_id: str) -> InferenceHTTPClient:
        self.__selected_model = model_id
        return self

    @contextmanager
    def use_model(self, model_id: str) -> Generator[InferenceHTTPClient, None, None]:
        previous, self.__selected_model = self.__selected_model, model_id
        try:
            yield self
        finally:
            self.__selected_model = previous

    # --- Server and models ---------------------------------------------------------------------

    def get_server_info(self) -> ServerInfo:
        return self.__run(operations.get_server_info(self.__session()))

    async def get_server_info_async(self) -> ServerInfo:
        return await self.__run_async(operations.get_server_info(self.__session()))

    def list_loaded_models(self) -> RegisteredModels:
        return self.__run(operations.list_loaded_models(self.__session()))

    async def list_loaded_models_async(self) -> RegisteredModels:
        return await self.__run_async(operations.list_loaded_models(self.__session()))

    def load_model(self, model_id: str, set_as_default: bool = False) -> RegisteredModels:
        return self.__run(self.__load_model(model_id, set_as_default))

    async def load_model_async(self, model_id: str, set_as_default: bool = False) -> RegisteredModels:
        return await self.__run_async(self.__load_model(model_id, set_as_default))

    def unload_model(self, model_id: str) -> RegisteredModels:
        return self.__run(self.__unload_model(model_id))

    async def unload_model_async(self, model_id: str) -> RegisteredModels:
        return await self.__run_async(self.__unload_model(model_id))

    def unload_all_models(self) -> RegisteredModels:
        return self.__run(self.__unload_all_models())

    async def unload_all_models_async(self) -> RegisteredModels:
        return await self.__run_async(self.__unload_all_models())

    def get_model_description(self, model_id: str, allow_loading: bool = True) -> ModelDescription:
        return self.__run(operations.get_model_description(self.__session(), model_id, allow_loading))

    async def get_model_description_async(
        self, model_id: str, allow_loading: bool = True
    ) -> ModelDescription:
        return await self.__run_async(
            operations.get_model_description(self.__session(), model_id, allow_loading)
        )

    # --- Inference -----------------------------------------------------------------------------

    def infer(self, inference_input: InferenceInput, model_id: str | None = None) -> dict | list[dict]:
        """Predictions for one image (a dict) or a list of images (a list, in input order)."""
        return self.__run(operations.infer(self.__session(), inference_input, model_id))

    async def infer_async(
        self, inference_input: InferenceInput, model_id: str | None = None
    ) -> dict | list[dict]:
        return await self.__run_async(operations.infer(self.__session(), inference_input, model_id))

    def infer_from_api_v0(self, inference_input: InferenceInput, model_id: str | None = None) -> Any:
        return self.__run(operations.infer_from_api_v0(self.__session(), inference_input, model_id))

    async def infer_from_api_v0_async(
        self, inference_input: InferenceInput, model_id: str | None = None
    ) -> Any:
        return await self.__run_async(
            operations.infer_from_api_v0(self.__session(), inference_input, model_id)
        )

    def infer_from_api_v1(self, inference_input: InferenceInput, model_id: str | None = None) -> Any:
        return self.__run(operations.infer_from_api_v1(self.__session(), inference_input, model_id))

    async def infer_from_api_v1_async(
        self, inference_input: InferenceInput, model_id: str | None = None
    ) -> Any:
        return await self.__run_async(
            operations.infer_from_api_v1(self.__session(), inference_input, model_id)
        )

    # --- Workflows -------------------------------------------------------------------------------

    def run_workflow(
        self,
        workspace_name: str | None = None,
        workflow_id: str | None = None,
        specification: dict | None = None,
        images: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        excluded_fields: list[str] | None = None,
        use_cache: bool = True,
        enable_profiling: bool = False,
        workflow_version_id: str | None = None,
        disable_sinks: bool = False,
    ) -> list[dict[str, Any]]:
        """Run a workflow (a saved one by `workspace_name` and `workflow_id`, or `specification`);
        `images` and `parameters` become its inputs. One output dict per input image."""
        return self.__run(workflows.run_workflow(
            self.__session(), workspace_name, workflow_id, specification, images, parameters, excluded_fields,
            False, use_cache, enable_profiling, workflow_version_id, disable_sinks))

    async def run_workflow_async(
        self,
        workspace_name: str | None = None,
        workflow_id: str | None = None,
        specification: dict | None = None,
        images: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        excluded_fields: list[str] | None = None,
        use_cache: bool = True,
        enable_profiling: bool = False,
        workflow_version_id: str | None = None,
        disable_sinks: bool = False,
    ) -> list[dict[str, Any]]:
        return await self.__run_async(workflows.run_workflow(
            self.__session(), workspace_name, workflow_id, specification, images, parameters, excluded_fields,
            False, use_cache, enable_profiling, workflow_version_id, disable_sinks))

    def infer_from_workflow(
        self,
        workspace_name: str | None = None,
        workflow_name: str | None = None,
        specification: dict | None = None,
        images: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        excluded_fields: list[str] | None = None,
        use_cache: bool = True,
        enable_profiling: bool = False,
        workflow_version_id: str | None = None,
        disable_sinks: bool = False,
    ) -> list[dict[str, Any]]:
        """`run_workflow` through Roboflow's older routes (`/infer/workflows...`)."""
        return self.__run(workflows.run_workflow(
            self.__session(), workspace_name, workflow_name, specification, images, parameters, excluded_fields,
            True, use_cache, enable_profiling, workflow_version_id, disable_sinks))

    async def infer_from_workflow_async(
        self,
        workspace_name: str | None = None,
        workflow_name: str | None = None,
        specification: dict | None = None,
        images: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        excluded_fields: list[str] | None = None,
        use_cache: bool = True,
        enable_profiling: bool = False,
        workflow_version_id: str | None = None,
        disable_sinks: bool = False,
    ) -> list[dict[str, Any]]:
        return await self.__run_async(workflows.run_workflow(
            self.__session(), workspace_name, workflow_name, specification, images, parameters, excluded_fields,
            True, use_cache, enable_profiling, workflow_version_id, disable_sinks))

    def describe_workflow_interface(
        self,
        workspace_name: str | None = None,
        workflow_id: str | None = None,
        specification: dict | None = None,
        use_cache: bool = True,
    ) -> dict[str, Any]:
        """Inputs and outputs of a workflow, with their kinds and typing hints."""
        return self.__run(workflows.describe_workflow_interface(
            self.__session(), workspace_name, workflow_id, specification, use_cache))

    async def describe_workflow_interface_async(
        self,
        workspace_name: str | None = None,
        workflow_id: str | None = None,
        specification: dict | None = None,
        use_cache: bool = True,
    ) -> dict[str, Any]:
        return await self.__run_async(workflows.describe_workflow_interface(
            self.__session(), workspace_name, workflow_id, specification, use_cache))

    # --- Stream API (video pipelines on the server) ------------------------------------------------

    def start_inference_pipeline_with_workflow(self, video_reference: str | int | list[str | int],
                                               **configuration: Any) -> dict:
        """Start a workflow pipeline over a video source on the server; the answer's
        `context.pipeline_id` names it. Keywords as Roboflow's client: `workflow_specification` or
        `workspace_name` + `workflow_id`, `workflows_parameters`, `max_fps`, buffer strategies,
        `results_buffer_size`, ..."""
        return self.__run(pipelines.start_with_workflow(self.__session(), video_reference, **configuration))

    def list_inference_pipelines(self) -> dict:
        return self.__run(pipelines.list_pipelines(self.__session()))

    def get_inference_pipeline_status(self, pipeline_id: str) -> dict:
        return self.__run(pipelines.pipeline_command(self.__session(), pipeline_id, "GET", "status"))

    def pause_inference_pipeline(self, pipeline_id: str) -> dict:
        return self.__run(pipelines.pipeline_command(self.__session(), pipeline_id, "POST", "pause"))

    def resume_inference_pipeline(self, pipeline_id: str) -> dict:
        return self.__run(pipelines.pipeline_command(self.__session(), pipeline_id, "POST", "resume"))

    def terminate_inference_pipeline(self, pipeline_id: str) -> dict:
        return self.__run(pipelines.pipeline_command(self.__session(), pipeline_id, "POST", "terminate"))

    def consume_inference_pipeline_result(self, pipeline_id: str, excluded_fields: list[str] | None = None) -> dict:
        """The oldest results not consumed yet: `outputs` and `frames_metadata` (empty lists if none)."""
        return self.__run(pipelines.pipeline_command(
            self.__session(), pipeline_id, "GET", "consume", excluded_fields=excluded_fields or []))

    def infer_on_stream(
        self, input_uri: str | int, model_id: str | None = None
    ) -> Iterator[tuple[str | int, np.ndarray, dict]]:
        """Yield (reference, BGR frame, prediction) for each frame of a video file, stream or
        camera index (references are frame indices), or each image of a folder (file paths)."""
        extensions = self.__configuration.image_extensions_for_directory_scan
        for reference, frame in frames(input_uri, extensions):
            yield reference, frame, self.infer(frame, model_id=model_id)

    # --- Connection ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled connections of the sync methods (reopened on the next call)."""
        with self.__sync_client_lock:
            if self.__sync_client is not None:
                self.__sync_client.close()
                self.__sync_client = None

    def __enter__(self) -> InferenceHTTPClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- Internals -----------------------------------------------------------------------------

    def __session(self) -> operations.Session:
        return operations.Session(
            api_url=self.__api_url,
            api_key=self.__api_key,
            mode=self.__client_mode,
            configuration=self.__configuration,
            selected_model=self.__selected_model,
            retry=self.__retry,
        )

    def __run(self, operation: Operation[T]) -> T:
        from inference_sdk.http import executors

        with self.__sync_client_lock:
            if self.__sync_client is None:
                self.__sync_client = executors.sync_client(self.__timeout, self.__transport)
            http = self.__sync_client
        return executors.SyncExecutor(http).run(operation)

    async def __run_async(self, operation: Operation[T]) -> T:
        from inference_sdk.http import executors

        async with executors.async_client(self.__timeout, self.__transport) as client:
            return await executors.AsyncExecutor(client).run(operation)

    @contextmanager
    def __temporary_mode(self, mode: HTTPClientMode) -> Generator[None, None, None]:
        previous, self.__client_mode = self.__client_mode, mode
        try:
            yield
        finally:
            self.__client_mode = previous

    def __load_model(self, model_id: str, set_as_default: bool) -> Operation[RegisteredModels]:
        models = yield from operations.load_model(self.__session(), model_id)
        if set_as_default:
            self.__selected_model = model_id
        return models

    def __unload_model(self, model_id: str) -> Operation[RegisteredModels]:
        models = yield from operations.unload_model(self.__session(), model_id)
        if self.__selected_model == model_id:
            self.__selected_model = None
        return models

    def __unload_all_models(self) -> Operation[RegisteredModels]:
        models = yield from operations.unload_all_models(self.__session())
        self.__selected_model = None
        return models
