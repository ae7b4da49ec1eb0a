"""A loopback MJPEG-over-HTTP server (multipart/x-mixed-replace), as IP cameras serve.

`MjpegServer(frames, fps).start()` serves the JPEG-encoded frames in a loop at `/stream` on
127.0.0.1; `stop()` closes the listening socket and every open stream, as a camera that dies
would, and `start()` again on the same port brings it back.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

BOUNDARY = "visionhostframe"


class MjpegServer:
    def __init__(self, frames: list[np.ndarray], fps: float = 20.0, port: int = 0) -> None:
        self.jpegs = [
            cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for frame in frames
        ]
        self.fps = fps
        self.port = port
        self.clients_served = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream"

    def start(self) -> MjpegServer:
        self._stopping.clear()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/stream":
                    self.send_error(404)
                    return
                with owner._lock:
                    owner._connections.append(self.connection)
                    owner.clients_served += 1
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                index = 0
                try:
                    while not owner._stopping.is_set():
                        jpeg = owner.jpegs[index % len(owner.jpegs)]
                        self.wfile.write(
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                            + jpeg
                            + b"\r\n"
                        )
                        index += 1
                        time.sleep(1.0 / owner.fps)
                except OSError:
                    pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                connection.close()
            self._connections.clear()
        self._thread.join()
        self._server = None
