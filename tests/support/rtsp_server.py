"""A loopback RTSP server for the video tests: JPEG frames from a folder, looped, as RTP/JPEG.

Run with the system Python that has GStreamer's introspection bindings (Debian's python3-gi and
gir1.2-gst-rtsp-server-1.0, installed by scripts/setup-video.sh):

    /usr/bin/python3 tests/support/rtsp_server.py PORT FRAMES_DIR FPS

It prints `ready` once it listens on rtsp://127.0.0.1:PORT/stream and serves until killed.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, frames_dir, fps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( multifilesrc location={frames_dir}/frame%04d.jpg index=0 loop=true "
        f"caps=image/jpeg,framerate={fps}/1 ! jpegparse ! rtpjpegpay name=pay0 pt=26 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/stream", factory)
    if server.attach(None) == 0:
        print("could not listen", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
