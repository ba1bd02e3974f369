"""Online analysis: hosts without an Analyze pass (MLT) send frames one by one as they render.

Each shot gets a causal `OnlineAnalyser` the first time one of its unanalysed frames is rendered.
A frame analysed once is remembered (state and baseline), so rendering it again gives the same
pixels instead of re-tracking it. What was analysed is saved to the shot store every
`PERSIST_EVERY` new frames and at shutdown, so a restarted server keeps it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from ned_models.analysis.online import OnlineAnalyser
from ned_models.analysis.results import FrameFaceState, ShotAnalysis
from ned_models.analysis.shot import AnalysisOptions
from ned_models.edit import EditParams
from ned_models.errors import AnalysisMissing
from ned_models.manipulation.expression import BaselineTracker
from ned_models.pipeline import FramePipeline, shot_topology
from ned_models.render import PatchResult, WarpTopology
from ned_models.tracking.tracker import TrackerOptions
from ned_server._gen.ned.v1 import ned_pb2
from ned_server.convert import FrameInput
from ned_server.shot_store import ShotStore

__all__ = ["OnlineShots", "PERSIST_EVERY"]

logger = logging.getLogger(__name__)
PERSIST_EVERY = 50
_TIME_KEY_DIGITS = 6  # frame times are rounded to this many decimals (seconds) to find them again


@dataclass
class _Session:
    analyser: OnlineAnalyser
    frames_per_second: float
    baselines: dict[int, BaselineTracker] = field(default_factory=dict)
    topologies: dict[int, WarpTopology] = field(default_factory=dict)
    seen: dict[float, dict[int, tuple[FrameFaceState, np.ndarray]]] = field(default_factory=dict)
    unsaved: int = 0


class OnlineShots:
    """Per-shot causal analysis for renders of frames no full analysis covers."""

    def __init__(self, store: ShotStore[ShotAnalysis], pipeline: FramePipeline):
        self._store = store
        self._pipeline = pipeline
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def render(self, shot_id: str, frame_time: float, frame: FrameInput, frames_per_second: float,
               params: EditParams, diagnostics: ned_pb2.Diagnostics) -> PatchResult | None:
        """Analyse the frame (unless already done) and render it; None when the face is not there.

        Raises:
            AnalysisMissing: the face index is not among the faces found in this frame and never was.
        """
        with self._store.locked(shot_id):
            session = self._session(shot_id, frame, frames_per_second)
            seconds = round(frame_time / frames_per_second, _TIME_KEY_DIGITS)
            faces = session.seen.get(seconds)
            if faces is None:
                faces = self._analyse(session, seconds, frame.pixels)
                self._maybe_persist(shot_id, session)
            diagnostics.faces_in_frame = len(faces)
            found = faces.get(params.face_index)
            if found is None:
                if params.face_index > 0 and params.face_index >= len(session.baselines):
                    raise AnalysisMissing(f"face {params.face_index} does not exist: {len(session.baselines)} "
                                          "face(s) found so far in this shot (0 = largest)")
                return None
            state, baseline = found
            topology = session.topologies.setdefault(params.face_index, shot_topology(state.identity))
        return self._pipeline.render(frame.pixels, frame.origin_xy, frame.render_scale, state, baseline, params,
                                     topology)

    def _session(self, shot_id: str, frame: FrameInput, frames_per_second: float) -> _Session:
        with self._lock:
            session = self._sessions.get(shot_id)
            if session is None:
                record = self._store.get(shot_id)
                prior = record.analysis if record is not None else None
                options = AnalysisOptions(tracker=TrackerOptions(pixel_aspect=frame.pixel_aspect))
                session = _Session(OnlineAnalyser(options, prior=prior), frames_per_second)
                self._sessions[shot_id] = session
                logger.info("online analysis started", extra={"shot": shot_id, "prior": prior is not None})
            return session

    @staticmethod
    def _analyse(session: _Session, seconds: float, pixels: np.ndarray) -> dict[int, tuple[FrameFaceState, np.ndarray]]:
        states = session.analyser.add_frame(seconds, pixels)
        faces = {}
        for state in states:
            tracker = session.baselines.setdefault(state.face_index, BaselineTracker(session.frames_per_second))
            faces[state.face_index] = (state, tracker.update(state.expression))
        session.seen[seconds] = faces
        session.unsaved += 1
        return faces

    def _maybe_persist(self, shot_id: str, session: _Session, force: bool = False) -> None:
        if session.unsaved == 0 or (session.unsaved < PERSIST_EVERY and not force):
            return
        snapshot = session.analyser.snapshot()
        if snapshot is None:
            return
        record = self._store.get(shot_id)
        if record is not None and record.mode == "full":
            return  # a full analysis exists; never replace it with an online one
        self._store.put(shot_id, snapshot, mode="online", extra={"frame_rate": session.frames_per_second})
        session.unsaved = 0

    def rate(self, shot_id: str) -> float:
        """The frame rate the shot's online session converts frame times with."""
        with self._lock:
            session = self._sessions.get(shot_id)
        return session.frames_per_second if session is not None else 0.0

    def snapshot(self, shot_id: str) -> ShotAnalysis | None:
        """What the shot's online session has analysed so far (saved or not), or None."""
        with self._lock:
            session = self._sessions.get(shot_id)
        if session is None:
            return None
        with self._store.locked(shot_id):
            return session.analyser.snapshot()

    def forget(self, shot_id: str) -> None:
        with self._lock:
            self._sessions.pop(shot_id, None)

    def persist_all(self) -> None:
        """Save every session's unsaved frames (at shutdown)."""
        with self._lock:
            sessions = list(self._sessions.items())
        for shot_id, session in sessions:
            with self._store.locked(shot_id):
                try:
                    self._maybe_persist(shot_id, session, force=True)
                except Exception:  # noqa: BLE001 - one bad shot must not stop the others from saving
                    logger.exception("could not save the online analysis of shot %r", shot_id)
