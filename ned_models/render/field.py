"""A displacement field on a coarse, frame-aligned grid: storage, upsampling, and its fold guard.

Grid convention: the frame is tiled by `step` x `step` cells; node (k, l) of the frame-wide grid
sits at the centre of cell (k, l), frame pixel ((k + 0.5) * step, (l + 0.5) * step). A field holds
a block of nodes. The per-pixel field is the bilinear interpolation of the nodes (what
`cv2.resize` by an integer factor computes); the Jacobian determinant of a bilinear map is
bilinear in each cell, so it is positive everywhere once it is positive at every cell's corners,
which is what `fold_guard` enforces.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["WarpField", "fold_guard", "corner_jacobians", "fill_holes"]

_GUARD_ROUNDS = 24
_SPREAD_SIGMA = 1.5
_SPREAD_PEAK = 0.0733  # centre weight of the 7x7, sigma 1.5 Gaussian

Rect = tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class WarpField:
    """A backward warp on a coarse grid: output pixel p samples the source at p + displacement(p).

    Attributes:
        displacement: (rows, cols, 2) float32 (dx, dy) in pixels at the grid nodes, already
            multiplied by `mask` and fold-guarded.
        mask: (rows, cols) float32 in [0, 1], the face mask at the nodes.
        step: node spacing in pixels.
        first_node: (column, row) of node (0, 0) in the frame-wide grid: node (i, j) sits at frame
            pixel ((first_node[0] + j + 0.5) * step, (first_node[1] + i + 0.5) * step).
    """

    displacement: np.ndarray
    mask: np.ndarray
    step: int
    first_node: tuple[int, int]

    def sample_positions(self, rect: Rect) -> np.ndarray:
        """Where each pixel of any frame rectangle samples the source (identity off the block).

        Args:
            rect: (x, y, w, h) in frame pixels.

        Returns:
            (h, w, 2) float32 (x, y) frame positions, pixel centres at +0.5 (see `conventions`).
        """
        x, y, w, h = rect
        out = np.empty((h, w, 2), dtype=np.float32)
        out[..., 0] = np.arange(x, x + w, dtype=np.float32)[None, :] + np.float32(0.5)
        out[..., 1] = np.arange(y, y + h, dtype=np.float32)[:, None] + np.float32(0.5)
        s, (k, l) = self.step, self.first_node
        bx0, by0 = max(x, k * s), max(y, l * s)
        bx1 = min(x + w, (k + self.mask.shape[1]) * s)
        by1 = min(y + h, (l + self.mask.shape[0]) * s)
        if bx1 > bx0 and by1 > by0:
            out[by0 - y:by1 - y, bx0 - x:bx1 - x] = self.positions((bx0, by0, bx1 - bx0, by1 - by0))
        return out

    def positions(self, rect: Rect, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """Sampling positions for a rectangle inside the grid block (the render's fast path).

        Args:
            rect: (x, y, w, h) frame pixels within the block's cells.
            origin: subtracted from the positions (frame pixels).

        Returns:
            (h, w, 2) float32 positions minus `origin`; rows contiguous, possibly a view.

        Raises:
            ValueError: the rectangle reaches outside the block.
        """
        s, (k, l) = self.step, self.first_node
        rows, cols = self.mask.shape
        gx = (k + np.arange(-1, cols + 1) + 0.5) * s - origin[0]
        gy = (l + np.arange(-1, rows + 1) + 0.5) * s - origin[1]
        # positions are linear in the node index, so padding with them keeps the bilinear upsampling
        # exact all the way to the block's edge (padding displacements would clamp them)
        pos = np.empty((rows + 2, cols + 2, 2), dtype=np.float64)
        pos[..., 0], pos[..., 1] = np.meshgrid(gx, gy)
        pos[1:-1, 1:-1] += self.displacement
        return self._upsample(pos.astype(np.float32), rect)

    def mask_and_motion(self, rect: Rect, eps: float) -> tuple[np.ndarray, np.ndarray]:
        """The mask and the moving pixels of a frame rectangle.

        Returns:
            alpha: (h, w) float32, the mask bilinearly upsampled.
            moving: (h, w) bool, pixels whose bilinear stencil holds a node that moves by `eps`
                or more; the others are within `eps` of not moving and are copied, not resampled.
        """
        moving = (np.abs(self.displacement) >= eps).any(axis=2)
        nodes = np.pad(np.dstack([self.mask, moving.astype(np.float32)]), ((1, 1), (1, 1), (0, 0)))
        fine = self._upsample(nodes, rect)
        # bilinear weights are non-negative, so the upsampled indicator is 0 only where every node
        # the pixel depends on is static
        return np.ascontiguousarray(fine[..., 0]), fine[..., 1] > 0

    def _upsample(self, padded: np.ndarray, rect: Rect) -> np.ndarray:
        """Bilinear upsampling of node values padded by one node to the pixels of `rect`."""
        s = self.step
        x, y, w, h = rect
        # padded node q is block node q - 1; its cell starts at frame pixel x0 + q * s
        x0, y0 = (self.first_node[0] - 1) * s, (self.first_node[1] - 1) * s
        k_lo, k_hi = (x - x0) // s - 1, (x + w - 1 - x0) // s + 2
        l_lo, l_hi = (y - y0) // s - 1, (y + h - 1 - y0) // s + 2
        if k_lo < 0 or l_lo < 0 or k_hi > padded.shape[1] or l_hi > padded.shape[0]:
            raise ValueError(f"rectangle {rect} reaches outside the warp field's grid")
        sub = np.ascontiguousarray(padded[l_lo:l_hi, k_lo:k_hi])
        fine = cv2.resize(sub, ((k_hi - k_lo) * s, (l_hi - l_lo) * s), interpolation=cv2.INTER_LINEAR)
        ox, oy = x - (x0 + k_lo * s), y - (y0 + l_lo * s)
        return fine.reshape(fine.shape[0], fine.shape[1], -1)[oy:oy + h, ox:ox + w]


def corner_jacobians(field: np.ndarray, step: int) -> np.ndarray:
    """Area ratio of p -> p + d(p) at the four corners of every grid cell, (4, rows - 1, cols - 1)."""
    ex = field[:, 1:] - field[:, :-1]
    ex[..., 0] += step
    ey = field[1:] - field[:-1]
    ey[..., 1] += step
    top, bottom, left, right = ex[:-1], ex[1:], ey[:, :-1], ey[:, 1:]

    def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]

    return np.stack([cross(top, left), cross(top, right), cross(bottom, left),
                     cross(bottom, right)]) / float(step * step)


def fold_guard(field: np.ndarray, step: int, min_jacobian: float) -> np.ndarray:
    """Smooth the displacement around cells whose mapping would fold or collapse.

    A fold is a displacement that changes too fast (where the eyelid's raise meets the brow's, or a
    large move fades out at the mask's edge), so it is cured by spreading that change over more
    nodes: the field is blended towards its Gaussian blur around the bad cells, round after round,
    which keeps the displacement's size (scaling it down instead, even locally, pushes the steep
    change onto the next ring of nodes, and a uniform scale-down then weakened the whole edit to a
    third on talking clips at intensity 1). Should that not converge, the field is scaled down
    uniformly as the last resort: at zero displacement the Jacobian is 1, so this always terminates.

    Args:
        field: (rows, cols, 2) node displacements in pixels.
        step: node spacing in pixels.
        min_jacobian: smallest allowed area ratio, in (0, 1).

    Returns:
        The field, with every cell-corner Jacobian >= min_jacobian (the input when it already was).
    """
    for _ in range(_GUARD_ROUNDS):
        bad_cells = corner_jacobians(field, step).min(axis=0) < min_jacobian
        if not bad_cells.any():
            return field
        bad = np.zeros(field.shape[:2], dtype=np.float32)
        bad[:-1, :-1] += bad_cells
        bad[1:, :-1] += bad_cells
        bad[:-1, 1:] += bad_cells
        bad[1:, 1:] += bad_cells
        # full smoothing at and next to a bad node, fading out over about two nodes
        weight = np.minimum(cv2.GaussianBlur(np.minimum(bad, 1.0), (7, 7), _SPREAD_SIGMA) / _SPREAD_PEAK, 1.0)
        smooth = cv2.GaussianBlur(field, (5, 5), 1.0, borderType=cv2.BORDER_CONSTANT)
        field = field + weight[..., None] * (smooth - field)
    scale = np.float32(1.0)
    while corner_jacobians(field * scale, step).min() < min_jacobian:
        scale *= np.float32(0.8)
    return field * scale


def fill_holes(field: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Fill the `holes` nodes from their neighbours (normalised convolution, widening).

    Args:
        field: (rows, cols, 2) values, arbitrary at the holes.
        holes: (rows, cols) bool.
    """
    weight = (~holes).astype(np.float32)
    values = field * weight[..., None]
    for _ in range(8):
        hole = weight == 0
        w = cv2.blur(weight, (5, 5))
        filled = hole & (w > 0)
        if not filled.any():
            break
        values[filled] = cv2.blur(values, (5, 5))[filled] / w[filled][:, None]
        weight[filled] = 1.0
    return values
