"""Identity preservation: dlib's face-recognition embedding of the source and the edit.

dlib's ResNet maps an aligned face to a 128-D vector; its authors' rule is that two faces whose
vectors are less than 0.6 apart (Euclidean) are the same person (99.38 % on LFW). An edit that
keeps the actor should stay far below that; two different actors are usually above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import dlib
import numpy as np

from ned_models.errors import ModelLoadError
from ned_models.eval.reference_landmarks import DlibFace, dlib_model_path, to_rgb_uint8

__all__ = ["SAME_PERSON_THRESHOLD", "EMBEDDING_SIZE", "IdentityDistances", "DlibFaceEmbedder",
           "identity_distances"]

SAME_PERSON_THRESHOLD = 0.6
EMBEDDING_SIZE = 128


class DlibFaceEmbedder:
    """dlib's 128-D face descriptor (ResNet, ~75 ms per face on one CPU core)."""

    def __init__(self) -> None:
        path = dlib_model_path("dlib_face_recognition_resnet_model_v1.dat")
        try:
            self._model = dlib.face_recognition_model_v1(str(path))
        except RuntimeError as exc:
            raise ModelLoadError(f"cannot load dlib's face-recognition model {path}: {exc}") from exc

    def embed(self, frame: np.ndarray, face: DlibFace) -> np.ndarray:
        """(128,) float64 descriptor of `face` (from `Dlib68`) in the (H, W, 3|4) RGB `frame`."""
        descriptor = self._model.compute_face_descriptor(to_rgb_uint8(frame), face.to_dlib_shape())
        return np.asarray(descriptor, dtype=np.float64)


@dataclass(frozen=True)
class IdentityDistances:
    """How far the edit's face is from the source's, in dlib descriptor units (< 0.6 = same person).

    Attributes:
        mean_embedding_distance: distance between the per-clip mean descriptors (robust to a few
            bad frames, blind to per-frame drift).
        median_paired_distance: median over frames of the distance between the source's and the
            edit's descriptor of the same frame.
        paired_distances: (N,) the per-frame distances behind the median.
    """

    mean_embedding_distance: float
    median_paired_distance: float
    paired_distances: np.ndarray


def identity_distances(source: np.ndarray, edit: np.ndarray) -> IdentityDistances:
    """Compare (N, 128) per-frame descriptors of the source and the edit (row i = the same frame).

    Raises:
        ValueError: the arrays are not (N, 128) with the same N >= 1.
    """
    source, edit = np.asarray(source, dtype=np.float64), np.asarray(edit, dtype=np.float64)
    if source.ndim != 2 or source.shape != edit.shape or source.shape[1] != EMBEDDING_SIZE or len(source) == 0:
        raise ValueError(f"expected two (N, 128) descriptor arrays with N >= 1, got {source.shape} and {edit.shape}")
    paired = np.linalg.norm(source - edit, axis=1)
    mean_distance = float(np.linalg.norm(source.mean(axis=0) - edit.mean(axis=0)))
    return IdentityDistances(mean_distance, float(np.median(paired)), paired)
