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


# --- round two: parse failures, resolved-address lists, IPv6 forms, the total deadline ---------

import ipaddress  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

from inference_core import addresses  # noqa: E402
from inference_core.errors import InvalidInputError  # noqa: E402


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://[evil.example.com]/x.png",
        "http://[::1]]/x.png",
        "http://\ud800.example.com/x.png",
        "http://example.com/\ud800.png",
        "http://example.com:99999/x.png",
        "http://example.com:-1/x.png",
        "http://exa mple.com/x.png",
        "http://example.com\\@127.0.0.1/x.png",
        "http://" + "a" * 300 + ".com/x.png",
        "http:///x.png",
        "http://%00/x.png",
    ],
)
def test_every_malformed_url_is_a_400(url):
    with pytest.raises(InvalidInputError) as caught:
        ImageLoader(url_policy=UrlPolicy()).load({"type": "url", "value": url})
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    ("text", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::10.0.0.1", False),
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::1", False),  # local-use NAT64
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("fec0::1", False),  # site-local
        ("fe80::1", False),
        ("fc00::1", False),
        ("2001::1", False),  # Teredo
        ("::", False),
        ("::1", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_public_address_test_sees_ipv4_inside_ipv6(text, public):
    assert addresses.is_public(ipaddress.ip_address(text)) is public


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "127.0.1", "[::ffff:127.0.0.1]"])
def test_blacklist_compares_resolved_addresses(image_server, host):
    port = image_server.rsplit(":", 1)[1]
    if host.startswith("[") and not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    policy = UrlPolicy(allow_non_global_addresses=True, allow_without_fqdn=True, blacklist=("127.0.0.1",))
    with pytest.raises(ImageSourceNotAllowedError, match="blocked"):
        ImageLoader(url_policy=policy).load(f"http://{host}:{port}/image.png")


def test_blacklisted_name_blocks_its_addresses(image_server):
    port = image_server.rsplit(":", 1)[1]
    policy = UrlPolicy(allow_non_global_addresses=True, allow_without_fqdn=True, blacklist=("localhost",))
    with pytest.raises(ImageSourceNotAllowedError, match="blocked"):
        ImageLoader(url_policy=policy).load(f"http://127.0.0.1:{port}/image.png")


def test_blacklisted_network_blocks_its_addresses(image_server):
    policy = UrlPolicy(allow_non_global_addresses=True, allow_without_fqdn=True, blacklist=("127.0.0.0/8",))
    with pytest.raises(ImageSourceNotAllowedError, match="blocked"):
        ImageLoader(url_policy=policy).load(f"{image_server}/image.png")


class _DripHandler(BaseHTTPRequestHandler):
    """Sends a valid header, then one byte every 0.3 s, 30 bytes in all (about 9 s)."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/drip-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(30):
                try:
                    self.wfile.write(b"X")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.3)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        for byte in PNG[:30]:
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.3)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def drip_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DripHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_one_deadline_covers_the_whole_fetch(drip_server, path):
    """Each byte arrives well within the per-read timeout; the total deadline still ends it."""
    policy = UrlPolicy(
        allow_non_global_addresses=True, allow_without_fqdn=True, timeout_seconds=5.0, deadline_seconds=1.0
    )
    with pytest.raises(ImageFetchError, match="longer than 1 s"):
        ImageLoader(url_policy=policy).load(f"{drip_server}{path}")
