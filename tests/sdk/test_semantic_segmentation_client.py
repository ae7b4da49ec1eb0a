"""Our client on a semantic-segmentation model: `infer` picks `/infer/semantic_segmentation` in
API v1 mode and the legacy route in v0 mode, and both answer the reference mask."""

from __future__ import annotations

from inference_sdk import InferenceHTTPClient
from inference_sdk.http.entities import InferenceConfiguration
from model_dirs import SEMSEG_ID
from reference_agreement import pixel_agreement, reference, reference_image_path


def test_infer_answers_the_reference_mask_in_both_modes(api_url):
    expected = reference("shapes-semseg-deeplab")
    name, modes = next(iter(expected["images"].items()))
    client = InferenceHTTPClient(api_url=api_url)
    client.configure(InferenceConfiguration(confidence_threshold=expected["confidence"]))
    v1 = client.infer(str(reference_image_path(name)), model_id=SEMSEG_ID)
    client.select_api_v0()
    v0 = client.infer(str(reference_image_path(name)), model_id=SEMSEG_ID)
    for answer in (v1, v0):
        prediction = answer["predictions"]
        assert prediction["class_map"]["0"] == "background"
        assert pixel_agreement(prediction["segmentation_mask"], modes["stretch"]["segmentation_mask"]) >= 0.999
