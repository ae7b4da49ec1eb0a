"""Server info and model management calls, sync and async."""

from __future__ import annotations

import asyncio
import json

import pytest
from inference_sdk.http.entities import ModelDescription, RegisteredModels, ServerInfo
from inference_sdk.http.errors import HTTPCallErrorError, ModelNotInitializedError


def test_server_info(client, server):
    assert client.get_server_info() == ServerInfo(name="VisionHost", version="0.1.0", uuid="u-1")
    assert server.requests[0].method == "GET" and server.paths() == ["/info"]


def test_load_list_unload(client, server):
    loaded = client.load_model("shapes/1")
    expected = ModelDescription("shapes/1", "object-detection", None, 640, 640)
    assert loaded == RegisteredModels(models=[expected])
    client.load_model("classes/1", set_as_default=True)
    assert client.selected_model == "classes/1"
    assert [model.model_id for model in client.list_loaded_models().models] == ["shapes/1", "classes/1"]
    assert client.unload_model("classes/1").find("classes/1") is None
    assert client.selected_model is None
    assert json.loads(server.requests[-1].content) == {"model_id": "classes/1", "api_key": "key-123"}
    client.select_model("shapes/1")
    assert client.unload_all_models().models == []
    assert client.selected_model is None
    assert server.requests[-1].url.path == "/model/clear" and server.requests[-1].method == "POST"


def test_unknown_model_is_a_404_call_error(client):
    with pytest.raises(HTTPCallErrorError) as caught:
        client.load_model("nope/9")
    assert caught.value.status_code == 404
    assert caught.value.api_message == "Model nope/9 not found"


def test_model_description(client, server):
    description = client.get_model_description("pose/1")
    assert description.task_type == "keypoint-detection" and description.input_width == 640
    assert server.paths() == ["/model/registry", "/model/add"]
    with pytest.raises(ModelNotInitializedError):
        client.get_model_description("classes/1", allow_loading=False)


def test_async_management_matches_sync(client):
    async def scenario():
        await client.load_model_async("shapes/1", set_as_default=True)
        listed = await client.list_loaded_models_async()
        description = await client.get_model_description_async("shapes/1", allow_loading=False)
        info = await client.get_server_info_async()
        removed = await client.unload_model_async("shapes/1")
        await client.load_model_async("pose/1")
        cleared = await client.unload_all_models_async()
        return listed, description, info, removed, cleared

    listed, description, info, removed, cleared = asyncio.run(scenario())
    assert listed.models[0].model_id == "shapes/1" and description.task_type == "object-detection"
    assert info.name == "VisionHost" and removed.models == [] and cleared.models == []
    assert client.selected_model is None
