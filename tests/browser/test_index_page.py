"""The page at `/` in a real headless browser: Debian's chromium driven through chromedriver.

`./scripts/setup-browser.sh` installs chromium and chromium-driver (CI runs it from `.ci/run`);
without them the test skips and says why. The page is loaded from a real server on 127.0.0.1,
the bundled sample is submitted through the form, and the drawn image and the predictions JSON
must appear. `VISIONHOST_SCREENSHOT=docs/index-page.png` also saves the screenshot kept in docs/.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from inference_core.store import ModelStore
from server_harness import start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "assets" / "images" / "shapes-sample.jpg"  # 640x480, a few coloured shapes
MODEL_ID = "shapes-detect/1"
#: Chromium's flags for a test: no sandbox (containers, root), nothing fetched in the background.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,1400",
)
WAIT_SECONDS = 60


def _browser_or_skip():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (requirements-dev.txt; ./scripts/setup.sh installs it)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("chromium and chromium-driver are not installed: run ./scripts/setup-browser.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture()
def server(tmp_path):
    cache = tmp_path / "models"
    ModelStore(cache).import_ultralytics_onnx(REPO / "assets/models/shapes-det-yolov8.onnx", MODEL_ID)
    running = start_server({"MODEL_CACHE_DIR": str(cache), "OFFLINE_MODE": "true"}, tmp_path / "server.log")
    yield running
    stop_server(running)


def test_the_page_shows_the_server_and_draws_the_samples_predictions(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser = _browser_or_skip()
    try:
        wait = WebDriverWait(browser, WAIT_SECONDS)
        browser.get(server.url + "/")
        info = server.client().get("/info").json()
        wait.until(lambda b: b.find_element(By.ID, "server-version").text == info["version"])
        backends = browser.find_element(By.ID, "server-backends").text
        assert backends and all(name in backends for name in info["backends"])
        plugins = browser.find_element(By.ID, "server-plugins").text
        assert all(plugin["name"] in plugins for plugin in info.get("plugins", []))
        assert (
            browser.find_element(By.LINK_TEXT, "API documentation (/docs)").get_attribute("href")
            == server.url + "/docs"
        )
        wait.until(lambda b: MODEL_ID in b.find_element(By.ID, "cached-models").text)
        Select(browser.find_element(By.ID, "model-id")).select_by_value(MODEL_ID)
        browser.find_element(By.ID, "image-file").send_keys(str(SAMPLE))
        browser.find_element(By.ID, "confidence").clear()
        browser.find_element(By.ID, "confidence").send_keys("0.5")
        browser.find_element(By.ID, "submit").click()

        shown = wait.until(lambda b: b.find_element(By.ID, "predictions-json").text)
        answer = json.loads(shown)
        assert answer["image"] == {"width": 640, "height": 480}
        assert len(answer["predictions"]) >= 3
        assert all(p["confidence"] >= 0.5 for p in answer["predictions"])
        # the same boxes as the server gives any client for this image and confidence
        direct = (
            server.client()
            .post(
                "/infer/object_detection",
                json={
                    "model_id": MODEL_ID,
                    "confidence": 0.5,
                    "image": {"type": "base64", "value": base64.b64encode(SAMPLE.read_bytes()).decode()},
                },
            )
            .json()
        )
        assert [_box(p) for p in answer["predictions"]] == [_box(p) for p in direct["predictions"]]
        # the drawn JPEG came back and the browser decoded it at the image's size
        size = wait.until(
            lambda b: b.execute_script(
                "const img = document.getElementById('drawn');"
                "return img.complete && img.naturalWidth ? [img.naturalWidth, img.naturalHeight] : null;"
            )
        )
        assert size == [640, 480]
        status = browser.find_element(By.ID, "infer-status").text
        assert status.startswith(f"{len(answer['predictions'])} predictions in"), status
        wait.until(lambda b: MODEL_ID in b.find_element(By.ID, "loaded-models").text)

        browser.save_screenshot(str(tmp_path / "index-page.png"))
        keep = os.environ.get("VISIONHOST_SCREENSHOT")
        if keep:
            shutil.copyfile(tmp_path / "index-page.png", REPO / keep)
    finally:
        browser.quit()


def _box(prediction: dict) -> tuple:
    return (
        prediction["class"],
        round(prediction["x"]),
        round(prediction["y"]),
        round(prediction["width"]),
        round(prediction["height"]),
    )


def test_the_page_says_what_went_wrong_when_the_image_is_not_one(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("these are words, not pixels")
    browser = _browser_or_skip()
    try:
        wait = WebDriverWait(browser, WAIT_SECONDS)
        browser.get(server.url + "/")
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f"#model-id option[value='{MODEL_ID}']"))
        browser.find_element(By.ID, "image-file").send_keys(str(not_an_image))
        browser.find_element(By.ID, "submit").click()
        status = wait.until(
            lambda b: (
                b.find_element(By.ID, "infer-status").text.startswith("Error 400")
                and b.find_element(By.ID, "infer-status").text
            )
        )
        assert "image" in status.lower()
        assert browser.find_element(By.ID, "predictions-json").text == ""
    finally:
        browser.quit()
