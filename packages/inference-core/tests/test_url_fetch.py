import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest
from inference_core.errors import ImageFetchError, ImageSourceNotAllowedError, PayloadTooLargeError
from inference_core.images import ImageLoader
from inference_core.images.url_fetch import resolve_allowed_address
from inference_core.settings import ImageLimits, UrlPolicy

IMAGE = np.full((12, 16, 3), 77, dtype=np.uint8)
PNG = cv2.imencode(".png", IMAGE)[1].tobytes()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/image.png":
            self._send(200, PNG, "image/png")
        elif self.path == "/big":
            self._send(200, b"x" * 5000, "image/png")
        elif self.path == "/redirect-to-image":
            self._redirect(f"http://127.0.0.1:{self.server.server_port}/image.png")
        elif self.path == "/redirect-to-localhost":
            self._redirect(f"http://localhost:{self.server.server_port}/image.png")
        elif self.path == "/loop":
            self._redirect("/loop")
        else:
            self._send(404, b"nope", "text/plain")

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def image_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


LOOPBACK_OK = UrlPolicy(allow_non_global_addresses=True, allow_without_fqdn=True)


def test_default_policy_refuses_internal_addresses(image_server):
    with pytest.raises(ImageSourceNotAllowedError, match="non-public"):
        ImageLoader().load(f"{image_server}/image.png")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.png",
        "http://10.0.0.5/x.png",
        "http://192.168.1.1/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.png",
        "http://0.0.0.0/x.png",
        "http://100.64.0.1/x.png",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://localhost/x.png",
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/x.png",
    ],
)
def test_internal_and_odd_urls_refused(url):
    with pytest.raises(ImageSourceNotAllowedError):
        resolve_allowed_address(url, UrlPolicy())


def test_policy_switches():
    with pytest.raises(ImageSourceNotAllowedError, match="disabled"):
        ImageLoader(url_policy=UrlPolicy(allowed=False)).load("https://example.com/x.png")
    with pytest.raises(ImageSourceNotAllowedError, match="https"):
        resolve_allowed_address("http://example.com/x.png", UrlPolicy(allow_non_https=False))
    with pytest.raises(ImageSourceNotAllowedError, match="allowed list"):
        resolve_allowed_address("https://example.com/x.png", UrlPolicy(whitelist=("images.example.org",)))
    with pytest.raises(ImageSourceNotAllowedError, match="blocked"):
        resolve_allowed_address("https://example.com/x.png", UrlPolicy(blacklist=("example.com",)))


def test_fetch_when_internal_addresses_are_allowed(image_server):
    loader = ImageLoader(url_policy=LOOPBACK_OK)
    np.testing.assert_array_equal(loader.load(f"{image_server}/image.png"), IMAGE)
    np.testing.assert_array_equal(loader.load(f"{image_server}/redirect-to-image"), IMAGE)
    np.testing.assert_array_equal(loader.load({"type": "url", "value": f"{image_server}/image.png"}), IMAGE)


def test_every_redirect_is_checked_again(image_server):
    policy = UrlPolicy(allow_non_global_addresses=True, allow_without_fqdn=True, blacklist=("localhost",))
    with pytest.raises(ImageSourceNotAllowedError, match="blocked"):
        ImageLoader(url_policy=policy).load(f"{image_server}/redirect-to-localhost")


def test_redirect_loops_errors_and_byte_cap(image_server):
    loader = ImageLoader(url_policy=LOOPBACK_OK)
    with pytest.raises(ImageFetchError, match="redirects"):
        loader.load(f"{image_server}/loop")
    with pytest.raises(ImageFetchError, match="404"):
        loader.load(f"{image_server}/missing.png")
    small = ImageLoader(limits=ImageLimits(max_bytes=1000), url_policy=LOOPBACK_OK)
    with pytest.raises(PayloadTooLargeError):
        small.load(f"{image_server}/big")
