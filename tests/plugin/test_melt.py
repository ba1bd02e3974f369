"""End to end through a real OFX host: MLT 7.42 `melt` -> the plugin -> the real ned-server.

melt exits 0 and passes frames through when a render fails, so every test also checks, from the
wire (the recording proxy between plugin and server), that the server received each frame with
the parameters melt interpolated, and what it answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from ned_server._gen.ned.v1 import ned_pb2

from tests.hosts.melt_runner import Melt, MeltOutput
from tests.hosts.server_process import NedServerProcess
from tests.plugin.frames import difference_box
from tests.plugin.grpc_spy import Exchange, GrpcSpy

pytestmark = [pytest.mark.melt, pytest.mark.plugin, pytest.mark.media]

SERVICE = "openfx.org.ned.EmotionDirector"
CLIP = "talking/retalking_4.mp4"
SIZE, FPS, FIRST, LAST = (700, 700), 30, 0, 59
FRAMES = LAST - FIRST + 1
INTENSITY_KEYS = "0=0;40=1"  # MLT keyframes: linear from 0 at frame 0 to 1 at frame 40


def keyed_intensity(t: float) -> float:
    return min(t / 40.0, 1.0)


@pytest.fixture(scope="module")
def melt(melt_host: Path, plugin_bundle: Path) -> Melt:
    host = Melt(melt_host, plugin_bundle.parent)
    listed = host.query_filters()
    assert SERVICE in listed, f"melt did not register {SERVICE} from {plugin_bundle.parent}:\n{listed[-2000:]}"
    return host


@pytest.fixture(scope="module")
def source_frames(melt: Melt, media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """The same melt command without the filter: what every frame must equal where nothing is edited."""
    out = tmp_path_factory.mktemp("melt-plain") / "plain.rgba"
    return melt.render(media_dir / CLIP, out, size=SIZE, fps=FPS, first=FIRST, last=LAST).frames


@pytest.fixture
def spy(ned_server: NedServerProcess) -> Iterator[GrpcSpy]:
    with GrpcSpy(ned_server.address) as s:
        yield s


def render_with_filter(melt: Melt, media_dir: Path, out: Path, spy: GrpcSpy, renderer: str, shot: str) -> MeltOutput:
    params = {"renderer": renderer, "emotion": "sad", "intensity": INTENSITY_KEYS, "server": spy.address,
              "shot": shot, "onError": "fail render"}
    return melt.render(media_dir / CLIP, out, size=SIZE, fps=FPS, first=FIRST, last=LAST, service=SERVICE,
                       params=params)


def renders_by_time(spy: GrpcSpy) -> dict[float, Exchange]:
    renders = spy.renders()
    by_time = {r.requests[0].time: r for r in renders}
    assert len(by_time) == len(renders), f"frames rendered twice: {sorted(r.requests[0].time for r in renders)}"
    return by_time


def test_melt_passthrough_is_bit_exact_and_reaches_the_server(melt, media_dir, ned_server, spy, source_frames,
                                                             tmp_path):
    out = render_with_filter(melt, media_dir, tmp_path / "passthrough.rgba", spy, "passthrough", "melt-passthrough")
    assert out.frames.shape == (FRAMES, SIZE[1], SIZE[0], 4), out.stderr[-2000:]
    assert source_frames.shape == out.frames.shape
    differing = [t for t in range(FRAMES) if not np.array_equal(out.frames[t], source_frames[t])]
    assert not differing, f"frames {differing} differ from the unfiltered melt output"

    by_time = renders_by_time(spy)
    assert sorted(by_time) == [float(t) for t in range(FRAMES)], f"the server saw frames {sorted(by_time)}"
    for t, exchange in by_time.items():
        request, reply = exchange.requests[0], exchange.replies[0] if exchange.replies else None
        assert exchange.code.name == "OK", f"frame {t}: {exchange.code.name} {exchange.details}"
        assert request.params.renderer == ned_pb2.RENDERER_PASSTHROUGH
        assert request.params.emotion == ned_pb2.EMOTION_SAD
        assert request.params.intensity == pytest.approx(keyed_intensity(t), abs=1e-6), f"frame {t}"
        assert reply.diagnostics.face_found and reply.placement.width > 0, f"frame {t}: no face patch returned"
    shot = ned_server.get_shot(by_time[0.0].requests[0].shot_id)
    assert shot is not None and shot.frames_analysed >= FRAMES, f"server analysis of the shot: {shot}"


def test_melt_warp_edits_only_the_face_region(melt, media_dir, spy, source_frames, tmp_path):
    out = render_with_filter(melt, media_dir, tmp_path / "warp.rgba", spy, "warp", "melt-warp")
    assert out.frames.shape == (FRAMES, SIZE[1], SIZE[0], 4), out.stderr[-2000:]
    assert np.array_equal(out.frames[0], source_frames[0]), "intensity 0 must leave frame 0 untouched"
    by_time = renders_by_time(spy)
    frame_area = SIZE[0] * SIZE[1]
    for t in range(41, FRAMES):
        exchange = by_time.get(float(t))
        assert exchange is not None and exchange.code.name == "OK", f"frame {t} was not rendered by the server"
        placement = exchange.replies[0].placement
        assert 0 < placement.width * placement.height < frame_area / 2, f"frame {t}: face region {placement}"
        box = difference_box(out.frames[t], source_frames[t])
        assert box is not None, f"frame {t} (intensity 1, sad) is identical to the source"
        x, y, w, h = box
        assert (placement.x <= x and placement.y <= y and x + w <= placement.x + placement.width
                and y + h <= placement.y + placement.height), (
            f"frame {t}: pixels changed in {box}, outside the face region {placement}")
