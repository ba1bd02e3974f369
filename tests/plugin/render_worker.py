"""Render frames through the plugin in a separate process, one JSON line per render.

A test that kills the server mid-render runs the host here, so a crash of the host process shows up
as a crash (a signal exit code) instead of taking pytest down with it.

    python -m tests.plugin.render_worker --bundle B --server ADDR --media clip.mp4 --renders 40 \
        --width 1920 --height 1080
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.hosts.ofx_host import OfxHost
from tests.plugin.frames import on_canvas, read_rgba_frames

PLUGIN_ID = "org.ned.EmotionDirector"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--media", type=Path, required=True)
    parser.add_argument("--renders", type=int, default=40)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--shot", default="render-worker")
    args = parser.parse_args(argv)
    frame = on_canvas(read_rgba_frames(args.media, 1)[0], args.width, args.height)
    with OfxHost(args.bundle, PLUGIN_ID) as host:
        inst = host.create_instance(params={"server": args.server, "shot": args.shot, "renderer": "passthrough",
                                            "onError": "fail render"})
        for index in range(args.renders):
            result = inst.render(frame, time=float(index))
            line = {"time": index, "status": int(result.status), "identical": bool((result.output == frame).all()),
                    "errors": [m.text for m in result.messages if m.type == "OfxMessageError"]}
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
