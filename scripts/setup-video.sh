#!/usr/bin/env sh
# What the video tests need beyond ./scripts/setup.sh, on Debian/Ubuntu: a loopback RTSP server
# (GStreamer's gst-rtsp-server, driven from the system Python through python3-gi; the test helper
# is tests/support/rtsp_server.py) and the ffmpeg command (an RTMP server in listen mode). Without
# them the RTSP and RTMP tests skip and say why.
set -eu
if /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer" \
    >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1; then
    exit 0
fi
run_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
run_as_root apt-get update -q
run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good ffmpeg
