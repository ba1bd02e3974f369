"""The per-frame render: face state + edit parameters -> a blended face patch.

    pipeline = FramePipeline()
    patch = pipeline.render(region, origin_xy, render_scale, state, baseline, params, topology)

This is the one place that composes the stages (manipulation, warp renderer, debug overlay); the
server calls it and knows none of them. Everything per shot that is expensive to build (the warp
triangulation) is made once by `shot_topology` and passed in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ned_models.analysis.results import FrameFaceState, ShotAnalysis
from ned_models.edit import EditParams, RendererKind
from ned_models.errors import AnalysisMissing
from ned_models.face_model.creases import CreaseRig
from ned_models.face_model.morphable import FaceModel, load_face_model
from ned_models.manipulation.expression import edit_expression, emotional_baseline
from ned_models.manipulation.speech import restore_speech
from ned_models.neural.neural_renderer import NeuralRenderer, RendererMemory
from ned_models.render import PatchResult, WarpTopology, build_topology, render_patch
from ned_models.render.creases import CreaseStroke
from ned_models.render.debug_overlay import draw_debug_overlay

__all__ = ["FramePipeline", "ShotRenderer", "EditedFace", "edit_face", "shot_topology", "FEATHER_PER_UNIT"]

logger = logging.getLogger(__name__)

# The user's feather (0..1, "fraction of the face size") in eye distances: a face is ~2.5 IODs tall,
# and the renderer's own default (0.12 IOD) is the plugin's default 0.3.
FEATHER_PER_UNIT = 0.4


@dataclass(frozen=True)
class EditedFace:
    """Source and edited landmarks of one face in one frame (frame pixels at render scale 1).

    Attributes:
        source: (478, 2) the tracked (smoothed) landmarks.
        target: (478, 2) where the edit puts them.
        expression: (K,) the edited action-unit coefficients.
    """

    source: np.ndarray
    target: np.ndarray
    expression: np.ndarray


def edit_face(state: FrameFaceState, baseline: np.ndarray, params: EditParams,
              model: FaceModel | None = None) -> EditedFace:
    """Move the face's landmarks from its expression to the edited one (speech kept).

    The edit is applied as a displacement of the tracked landmarks, `target = tracked +
    project(edited) - project(source)`, so the model's fit error never moves the face.

    Args:
        state: the face at this frame (from the shot's analysis).
        baseline: (K,) the actor's emotional baseline at this frame.
        params: the user's edit.
    """
    model = model or load_face_model()
    edited = edit_expression(state.expression, baseline, params.emotion, params.intensity,
                             params.mouth_preservation)
    source_shape = model.shape(state.identity, state.expression, state.residual, state.residual_basis)
    edited_shape = model.shape(state.identity, edited, state.residual, state.residual_basis)
    edited_shape = restore_speech(model, source_shape, edited_shape, params.mouth_preservation)
    delta = state.pose.scale * (edited_shape - source_shape) @ state.pose.rotation.T  # display px
    delta[:, 0] /= state.pixel_aspect
    source = state.landmarks[:, :2]
    return EditedFace(source=source, target=source + delta[:, :2], expression=edited)


def shot_topology(identity: np.ndarray) -> WarpTopology:
    """The warp triangulation of one face for a whole shot, built on its neutral shape so that it is
    the same for every frame (a per-frame triangulation could flip edges and flicker)."""
    return build_topology(identity[:, :2])


class FramePipeline:
    """Renders edited face patches; holds only immutable models, so one instance serves all threads."""

    def __init__(self, model: FaceModel | None = None) -> None:
        self._model = model or load_face_model()
        self._crease_rig = CreaseRig(self._model.template)

    def render(self, region: np.ndarray, origin_xy: tuple[int, int], render_scale: float, state: FrameFaceState,
               baseline: np.ndarray, params: EditParams, topology: WarpTopology | None) -> PatchResult:
        """One frame's face patch.

        Args:
            region: (h, w, C) the pixels the client sent (top-down; uint8, uint16 or float32).
            origin_xy: top-left of `region` in the full frame at `render_scale`.
            render_scale: the host's render scale; the analysis is at scale 1.
            state: the face at this frame.
            baseline: (K,) the actor's emotional baseline at this frame.
            params: the edit.
            topology: the shot's warp triangulation for this face (`shot_topology`).

        Returns:
            The patch (same dtype as `region`), its placement and alpha. PASSTHROUGH returns the
            source pixels of the face region unchanged.
        """
        feather = params.feather * FEATHER_PER_UNIT
        source = state.landmarks[:, :2] * render_scale
        if params.renderer is RendererKind.DEBUG:
            return draw_debug_overlay(region, origin_xy, state, render_scale)
        creases = None
        if params.renderer is RendererKind.PASSTHROUGH or params.is_identity:
            target = source
        elif params.renderer is RendererKind.WARP:
            edited = edit_face(state, baseline, params, self._model)
            target = edited.target * render_scale
            creases = self._creases(state.expression, edited.expression, target)
        else:
            raise ValueError(f"renderer {params.renderer.value} needs `render_neural`")
        return render_patch(region, origin_xy, source, target, feather=feather, topology=topology, forehead=1.0,
                            creases=creases)

    def _creases(self, source_expression: np.ndarray, edited_expression: np.ndarray,
                 target: np.ndarray) -> list[CreaseStroke]:
        """The folds the edit deepens, placed on the edited geometry."""
        rig = self._crease_rig
        depths = rig.depths(source_expression, edited_expression)
        return [CreaseStroke(curve, float(depth), float(width), crease.bulge_side) for crease, curve, depth, width
                in zip(rig.creases, rig.curves(target), depths, rig.widths(target), strict=True) if depth > 0]

    def render_neural(self, renderer: NeuralRenderer, memory: RendererMemory | None, region: np.ndarray,
                      origin_xy: tuple[int, int], render_scale: float, state: FrameFaceState, baseline: np.ndarray,
                      params: EditParams, topology: WarpTopology | None) -> tuple[PatchResult, RendererMemory]:
        """One frame through the shot's trained neural renderer (arguments as `render`).

        Args:
            renderer: the shot's renderer (`NeuralRenderer.load`).
            memory: what the previous call returned for this face (None starts a new sequence).

        Returns:
            The patch, and the memory to pass with the next frame.
        """
        edited = edit_face(state, baseline, params, self._model)
        return renderer.render(region, origin_xy, render_scale, state, edited.source, edited.target, memory,
                               feather=params.feather * FEATHER_PER_UNIT, topology=topology)


class ShotRenderer:
    """Renders the frames of one analysed shot, keeping what is per shot (emotional baselines, warp
    triangulations) so each frame costs only its own work. Thread-safe after construction.

    Args:
        analysis: the shot's (full) analysis.
        pipeline: the shared frame pipeline.
    """

    def __init__(self, analysis: ShotAnalysis, pipeline: FramePipeline) -> None:
        self.analysis = analysis
        self._pipeline = pipeline
        rate = 1.0 / float(np.median(np.diff(analysis.times))) if len(analysis.times) > 1 else 25.0
        self._baselines = [emotional_baseline(track.expression.astype(np.float64), rate) for track in analysis.faces]
        self._topologies: dict[int, WarpTopology] = {}

    def state(self, face_index: int, time: float) -> FrameFaceState | None:
        """The face at `time` (seconds); None when the frame is analysed but the face is absent.

        Raises:
            AnalysisMissing: the face index does not exist, or no analysed frame is at `time`.
        """
        shot = self.analysis
        if face_index >= len(shot.faces):
            raise AnalysisMissing(f"face {face_index} does not exist: the shot has {len(shot.faces)} tracked "
                                  "face(s) (0 = largest)")
        i = shot.frame_index(time)
        if i is None:
            raise AnalysisMissing(f"no analysed frame at t={time:.4f}s")
        return shot.state(face_index, time) if shot.faces[face_index].present[i] else None

    def render(self, time: float, region: np.ndarray, origin_xy: tuple[int, int], render_scale: float,
               params: EditParams) -> PatchResult | None:
        """The face patch at `time` (seconds), or None when the face is not in that frame."""
        found = self._face(params.face_index, time)
        if found is None:
            return None
        state, baseline, topology = found
        return self._pipeline.render(region, origin_xy, render_scale, state, baseline, params, topology)

    def render_neural(self, renderer: NeuralRenderer, memory: RendererMemory | None, time: float,
                      region: np.ndarray, origin_xy: tuple[int, int], render_scale: float,
                      params: EditParams) -> tuple[PatchResult | None, RendererMemory | None]:
        """As `render`, through the neural renderer; returns the patch and the next frame's memory."""
        found = self._face(params.face_index, time)
        if found is None:
            return None, None
        state, baseline, topology = found
        return self._pipeline.render_neural(renderer, memory, region, origin_xy, render_scale, state, baseline,
                                            params, topology)

    def _face(self, face_index: int, time: float) -> tuple[FrameFaceState, np.ndarray, WarpTopology] | None:
        state = self.state(face_index, time)
        if state is None:
            return None
        baseline = self._baselines[face_index][self.analysis.frame_index(time)]
        topology = self._topologies.get(face_index)
        if topology is None:
            topology = self._topologies.setdefault(face_index, shot_topology(state.identity))
        return state, baseline, topology
