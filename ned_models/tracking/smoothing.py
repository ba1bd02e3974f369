"""Temporal smoothing of per-frame signals: zero-phase for a full shot, causal for online analysis.

Full shot: local quadratic regression with Gaussian weights in time (a Savitzky-Golay filter that
takes real timestamps). It has no lag by construction, and a quadratic follows the peaks of speech
where a plain average would flatten them.

Online: the one-euro filter (Casiez et al., CHI 2012): a first-order low-pass whose cutoff rises
with the signal's speed, so a still head is held steady and a fast mouth is followed with little lag.
"""

from __future__ import annotations

import numpy as np

__all__ = ["smooth_zero_phase", "adaptive_sigma", "OneEuroFilter", "segments"]

_SPEED_SIGMA = 0.06  # seconds: speed is read through the jitter, not from it


def segments(times: np.ndarray, breaks: np.ndarray | None = None, max_gap: float = 0.25) -> list[slice]:
    """Split a time line where it has a break (scene cut) or a gap longer than `max_gap` seconds.

    Args:
        times: (T,) increasing seconds.
        breaks: (T,) bool, True where a new segment starts (e.g. a scene cut), or None.
    """
    starts = {0}
    if len(times) > 1:
        starts |= set((np.flatnonzero(np.diff(times) > max_gap) + 1).tolist())
    if breaks is not None:
        starts |= set(np.flatnonzero(breaks).tolist())
    edges = sorted(s for s in starts if s < len(times)) + [len(times)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def smooth_zero_phase(times: np.ndarray, values: np.ndarray, sigma: float | np.ndarray,
                      order: int = 2) -> np.ndarray:
    """Local polynomial regression with Gaussian time weights, evaluated at every sample.

    Args:
        times: (T,) increasing seconds (any spacing).
        values: (T, ...) samples.
        sigma: Gaussian width in seconds, one for all samples or (T,) one per sample; all <= 0
            returns the values unchanged.
        order: polynomial degree (0: a Gaussian average; 2 keeps peaks).

    Returns:
        (T, ...) float64 smoothed values.
    """
    values = np.asarray(values, dtype=np.float64)
    sigmas = np.broadcast_to(np.asarray(sigma, dtype=np.float64), times.shape)
    if np.all(sigmas <= 0) or len(times) < 2:
        return values.copy()
    sigmas = np.maximum(sigmas, 1e-6)
    flat = values.reshape(len(times), -1)
    weights, neighbours = _hat_rows(times, sigmas, order)
    out = np.zeros_like(flat)
    for j in range(neighbours.shape[1]):  # a few dozen passes over (T, D), never a (T, W, D) array
        out += weights[:, j, None] * flat[neighbours[:, j]]
    return out.reshape(values.shape)


def _hat_rows(times: np.ndarray, sigmas: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the weights the local regression gives its neighbours: (T, W) weights and indices.

    Row t of the local polynomial's hat matrix: the fitted value at t is sum_j weights[t, j] *
    values[neighbours[t, j]]. Neighbours outside the 3-sigma window get weight 0.
    """
    count = len(times)
    lo = np.searchsorted(times, times - 3.0 * sigmas, side="left")
    hi = np.searchsorted(times, times + 3.0 * sigmas, side="right")
    width = int((hi - lo).max())
    neighbours = np.minimum(lo[:, None] + np.arange(width)[None, :], count - 1)  # (T, W)
    inside = (lo[:, None] + np.arange(width)[None, :]) < hi[:, None]
    u = (times[neighbours] - times[:, None]) / sigmas[:, None]
    w = np.exp(-0.5 * u**2) * inside
    degree = int(min(order, max(int((inside.sum(axis=1)).min()) - 1, 0)))
    basis = u[..., None] ** np.arange(degree + 1)  # (T, W, degree+1)
    normal = np.einsum("tw,twi,twj->tij", w, basis, basis) + 1e-9 * np.eye(degree + 1)
    # the fitted polynomial's value at the sample itself is its constant term
    e0 = np.broadcast_to(np.eye(degree + 1)[0], (count, degree + 1))[..., None]
    row = np.linalg.solve(normal, e0)[..., 0]  # (T, degree+1)
    return np.einsum("ti,twi,tw->tw", row, basis, w), neighbours


def adaptive_sigma(times: np.ndarray, values: np.ndarray, still: float, moving: float,
                   speed_scale: float | None = None) -> np.ndarray:
    """(T,) per-sample smoothing widths: `still` where the signal rests, down to `moving` where it moves.

    Speed is the norm of the derivative of a lightly smoothed copy. Without `speed_scale` it is
    measured against the clip's own median speed (for signals without natural units); with it, in
    the signal's units per second. A mouth mid-word or a shaking head gets the narrow width (no lost
    amplitude, no lag), the same face at rest the wide one (no jitter).
    """
    flat = np.asarray(values, dtype=np.float64).reshape(len(times), -1)
    if len(times) < 3:
        return np.full(len(times), moving)
    rough = smooth_zero_phase(times, flat, max(moving, _SPEED_SIGMA), order=2)
    speed = np.linalg.norm(np.gradient(rough, times, axis=0), axis=1)
    scale = speed_scale if speed_scale is not None else max(float(np.median(speed)), 1e-12)
    sigma = moving + (still - moving) * np.exp(-((speed / scale) ** 2))
    # the width itself must change gently: a jump in width is a jump in the smoothed signal
    return smooth_zero_phase(times, sigma, _SPEED_SIGMA, order=0)


class OneEuroFilter:
    """Causal adaptive low-pass over a vector signal (one filter state per component).

    Args:
        min_cutoff: cutoff in Hz when the signal is still (lower = steadier).
        beta: how fast the cutoff rises with speed (per unit of the signal per second).
        derivative_cutoff: cutoff in Hz of the speed estimate.
    """

    def __init__(self, min_cutoff: float, beta: float, derivative_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or derivative_cutoff <= 0 or beta < 0:
            raise ValueError("one-euro cutoffs must be positive and beta non-negative")
        self.min_cutoff, self.beta, self.derivative_cutoff = min_cutoff, beta, derivative_cutoff
        self._time: float | None = None
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    @property
    def value(self) -> np.ndarray | None:
        """The last filtered value (None before the first sample)."""
        return None if self._value is None else self._value.copy()

    def reset(self) -> None:
        """Forget the past (the next sample passes through unchanged)."""
        self._time = self._value = self._speed = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, time: float, value: np.ndarray) -> np.ndarray:
        """Filter one sample taken at `time` seconds (strictly after the previous one)."""
        value = np.asarray(value, dtype=np.float64)
        if self._time is None or self._value is None or self._speed is None:
            self._time, self._value, self._speed = time, value.copy(), np.zeros_like(value)
            return value.copy()
        dt = time - self._time
        if dt <= 0:
            raise ValueError(f"one-euro filter: time {time} does not follow {self._time}")
        speed = (value - self._value) / dt
        a_d = self._alpha(self.derivative_cutoff, dt)
        self._speed = a_d * speed + (1.0 - a_d) * self._speed
        a = self._alpha(self.min_cutoff + self.beta * np.abs(self._speed), dt)
        self._value = a * value + (1.0 - a) * self._value
        self._time = time
        return self._value.copy()
