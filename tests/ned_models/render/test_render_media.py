"""The warp renderer on real footage, judged by the independent evaluator's measures.

Landmarks come from the project's tracker (`ned_models.tracking`); the edit is a plain smile
(lip corners up and out, brows up, 4-8% of the inter-ocular distance) made the way the
manipulation will: smooth displacements of the 478 points. Sharpness, identity and flicker are
measured with `ned_models.eval` (dlib landmarks and embeddings), not with the renderer's own mask.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from ned_models import landmarks as L
from ned_models.eval.flicker import FlickerMeter
from ned_models.eval.identity import DlibFaceEmbedder
from ned_models.eval.image_metrics import face_region, grey_255, laplacian_variance
from ned_models.eval.reference_landmarks import Dlib68
from ned_models.render import PatchResult, build_topology, render_patch
from ned_models.tracking.tracker import FaceTracker

pytestmark = [pytest.mark.media, pytest.mark.slow]

STILLS = ("source_s10.jpg", "liveportrait_d38.jpg", "people_0.png", "liveportrait_d12.jpg")


def realistic_smile(points: np.ndarray) -> np.ndarray:
    """Lip corners up 8% and out 5% of the inter-ocular distance, brows up 6%, smooth falloff."""
    xy = points[:, :2]
    iod = float(L.inter_ocular_distance(points))
    right = 0.5 * (xy[L.RIGHT_EYE_OUTER] + xy[L.RIGHT_EYE_INNER])
    left = 0.5 * (xy[L.LEFT_EYE_OUTER] + xy[L.LEFT_EYE_INNER])
    axis = (left - right) / np.linalg.norm(left - right)
    up = np.array([axis[1], -axis[0]])
    dst = xy.copy()
    for corner, side in ((L.MOUTH_RIGHT_CORNER, -1.0), (L.MOUTH_LEFT_CORNER, 1.0)):
        w = np.exp(-np.sum((xy - xy[corner]) ** 2, axis=1) / (2 * (0.22 * iod) ** 2))
        dst += w[:, None] * (0.08 * up + 0.05 * side * axis) * iod
    for brow in (L.RIGHT_BROW, L.LEFT_BROW):
        w = np.exp(-np.sum((xy - xy[list(brow)].mean(axis=0)) ** 2, axis=1) / (2 * (0.25 * iod) ** 2))
        dst += w[:, None] * 0.06 * up * iod
    return dst


def _paste(frame: np.ndarray, result: PatchResult) -> np.ndarray:
    out = frame.copy()
    x, y, w, h = result.placement
    out[y:y + h, x:x + w] = result.patch
    return out


def _read_still(media_dir: Path, name: str) -> np.ndarray:
    image = cv2.imread(str(media_dir / "stills" / name), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {name}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _read_frames(path: Path, count: int) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    assert len(frames) == count, f"{path} has fewer than {count} frames"
    return frames


def _track(frame: np.ndarray) -> np.ndarray:
    faces = FaceTracker().track(0.0, frame).faces
    assert faces, "the tracker found no face"
    return faces[0].points


def _sharpness_ratio(source: np.ndarray, edit: np.ndarray, dlib68: Dlib68) -> float:
    points = dlib68.detect(source)
    assert points is not None
    region = face_region(points, source.shape[:2])
    assert region is not None
    return laplacian_variance(grey_255(region.cut(edit)), region.mask) / laplacian_variance(
        grey_255(region.cut(source)), region.mask)


def _edge_gradient_ratio(source: np.ndarray, edit: np.ndarray, result: PatchResult) -> float:
    """Gradient energy of the edit along the mask's outer edge (the outer quarter of its ramp, where
    a seam would show), relative to the source's. Further in, the edit's own motion changes it."""
    x, y, w, h = result.placement
    band = (result.alpha > 0.0) & (result.alpha < 0.25)

    def energy(image: np.ndarray) -> float:
        grey = grey_255(image[y:y + h, x:x + w])
        gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        return float((gx * gx + gy * gy)[band].mean())

    return energy(edit) / energy(source)


@pytest.fixture(scope="module")
def dlib68() -> Dlib68:
    return Dlib68()


@pytest.mark.parametrize("name", STILLS)
def test_still_edit_is_sharp_seamless_and_exact(media_dir: Path, dlib68: Dlib68, name: str) -> None:
    frame = _read_still(media_dir, name)
    src = _track(frame)
    result = render_patch(frame, (0, 0), src, realistic_smile(src), topology=build_topology(src))
    edit = _paste(frame, result)
    x, y, w, h = result.placement
    outside = np.ones(frame.shape[:2], bool)
    outside[y:y + h, x:x + w] = result.alpha == 0
    assert np.array_equal(edit[outside], frame[outside])
    changed = np.any(edit != frame, axis=2)
    assert changed.sum() > 0.05 * w * h, "the edit changed almost nothing"
    # nothing beyond the mesh's silhouette (hair, background) is touched
    hull = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(src[:L.MESH_POINTS, :2]).astype(np.int32)), 1)
    assert not np.any(changed & (hull == 0))
    assert _sharpness_ratio(frame, edit, dlib68) >= 0.85
    assert _edge_gradient_ratio(frame, edit, result) <= 1.05


@pytest.mark.parametrize("name", STILLS[:2])
def test_still_no_edit_is_bit_exact(media_dir: Path, name: str) -> None:
    frame = _read_still(media_dir, name)
    src = _track(frame)
    result = render_patch(frame, (0, 0), src, src[:, :2], topology=build_topology(src))
    assert np.array_equal(_paste(frame, result), frame)


def test_still_edit_keeps_identity(media_dir: Path, dlib68: Dlib68) -> None:
    embedder = DlibFaceEmbedder()
    for name in STILLS[:3]:
        frame = _read_still(media_dir, name)
        src = _track(frame)
        edit = _paste(frame, render_patch(frame, (0, 0), src, realistic_smile(src)))
        face_source, face_edit = dlib68.detect_face(frame), dlib68.detect_face(edit)
        assert face_source is not None and face_edit is not None
        distance = np.linalg.norm(embedder.embed(frame, face_source) - embedder.embed(edit, face_edit))
        assert distance < 0.35, f"{name}: identity distance {distance:.3f}"


def test_clip_edit_adds_no_flicker_and_keeps_sharpness(media_dir: Path) -> None:
    frames = _read_frames(media_dir / "talking" / "WDA_KatieHill_000.mp4", 40)
    tracker = FaceTracker()
    reference = Dlib68(track=True)
    meter = FlickerMeter()
    topology = None
    ratios = []
    for t, frame in enumerate(frames):
        faces = tracker.track(t / 25.0, frame).faces
        assert faces, f"frame {t}: no face tracked"
        src = faces[0].points
        topology = topology or build_topology(src)  # once per shot
        edit = _paste(frame, render_patch(frame, (0, 0), src, realistic_smile(src), topology=topology))
        points = reference.detect(frame)
        meter.add(frame, edit, points)
        if t % 8 == 0:
            region = face_region(points, frame.shape[:2])
            ratios.append(laplacian_variance(grey_255(region.cut(edit)), region.mask)
                          / laplacian_variance(grey_255(region.cut(frame)), region.mask))
    scores = meter.scores()
    assert scores.ratio <= 1.2, f"flicker ratio {scores.ratio:.3f}"
    assert min(ratios) >= 0.9, f"sharpness ratios {ratios}"
