"""The JSON inference routes `/infer/{task}`: one image object or a list of them.

One route per task in `TASK_ROUTES`, each taking that task's request model (built from core's
parameter definitions). Annotations are evaluated here (no postponed annotations) so FastAPI
sees each route's own body model.
"""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from inference_server.auth import download_api_key, require_api_key
from inference_server.routes.common import (
    TASK_ROUTES,
    PredictionsResponse,
    check_task,
    request_started,
    response_body,
)
from inference_server.runner import wire_image
from inference_server.schemas import REQUEST_MODELS, InferenceRequest
from inference_server.state import ServerState, State

router = APIRouter(prefix="/infer", tags=["inference"], dependencies=[Depends(require_api_key)])


async def run_inference(
    body: InferenceRequest, task: str, request: Request, state: ServerState
) -> JSONResponse:
    started = request_started(request)
    params = body.params()
    images = [wire_image(item) for item in body.images()]
    state.runner.check_batch_length(len(images))
    api_key = await download_api_key(request, state, body)
    model = await state.runner.model(body.model_id, api_key=api_key)
    check_task(model.task, task, body.model_id)
    results = await state.runner.infer(body.model_id, images, params, started, body.id, api_key)
    payloads = [response_body(result) for result in results]
    return PredictionsResponse(payloads if isinstance(body.image, list) else payloads[0])


def _add_task_route(task: str, route: str, body_model: type[InferenceRequest]) -> None:
    async def infer_task(body: body_model, request: Request, state: State) -> JSONResponse:
        return await run_inference(body, task, request, state)

    infer_task.__name__ = route
    summary = f"{task.replace('-', ' ').capitalize()} on one image or a list"
    router.add_api_route(f"/{route}", infer_task, methods=["POST"], summary=summary)


for _task, _route in TASK_ROUTES.items():
    _add_task_route(_task, _route, REQUEST_MODELS[_task])
