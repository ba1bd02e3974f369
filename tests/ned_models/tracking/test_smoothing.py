"""Smoothing: noise goes, speech stays (no lag, little amplitude lost); causal filter; segments."""

from __future__ import annotations

import numpy as np
import pytest

from ned_models.tracking.smoothing import OneEuroFilter, adaptive_sigma, segments, smooth_zero_phase


def _speech_like(fps: float = 25.0, seconds: float = 6.0, seed: int = 0):
    """A syllable-rate aperture (3-6 Hz bursts with pauses) plus tracker-like white noise."""
    t = np.arange(0, seconds, 1 / fps)
    envelope = (np.sin(2 * np.pi * 0.4 * t) > -0.3).astype(float)
    clean = 0.15 * envelope * (1 + np.sin(2 * np.pi * 4.0 * t + np.sin(2 * np.pi * 0.7 * t))) / 2
    noise = np.random.default_rng(seed).normal(0, 0.01, t.shape)
    return t, clean, clean + noise


def _lag(a: np.ndarray, b: np.ndarray) -> int:
    lags = range(-4, 5)
    scores = [np.corrcoef(a[4 + k:len(a) - 4 + k], b[4:len(b) - 4])[0, 1] for k in lags]
    return list(lags)[int(np.argmax(scores))]


def test_zero_phase_removes_noise_in_pauses_and_keeps_syllables_in_time():
    t, clean, noisy = _speech_like()
    sigma = adaptive_sigma(t, noisy, still=0.1, moving=0.03)  # the analysis' expression defaults
    smooth = smooth_zero_phase(t, noisy, sigma)
    moving = np.abs(np.gradient(clean)) > 0.005
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert rms((smooth - clean)[~moving]) < 0.85 * rms((noisy - clean)[~moving])
    assert _lag(smooth, clean) == 0
    # 4 Hz syllables at 25 fps keep most of their swing (a fixed 0.1 s Gaussian keeps ~60%)
    assert np.std(smooth[moving]) > 0.8 * np.std(clean[moving])
    fixed = smooth_zero_phase(t, noisy, 0.1)
    assert np.std(smooth[moving]) > np.std(fixed[moving]) + 0.1 * np.std(clean[moving])


def test_zero_phase_keeps_polynomials_and_shapes():
    t = np.sort(np.random.default_rng(1).uniform(0, 2, 60))  # irregular times
    values = np.stack([1 + 2 * t - 3 * t**2, t], axis=1)[:, None, :]  # (T, 1, 2)
    out = smooth_zero_phase(t, values, 0.1, order=2)
    assert out.shape == values.shape
    np.testing.assert_allclose(out, values, atol=1e-8)
    np.testing.assert_array_equal(smooth_zero_phase(t, values, 0.0), values)


def test_adaptive_sigma_is_narrow_where_the_signal_moves():
    t = np.arange(0, 4, 0.04)
    signal = np.where(t < 2, 0.0, np.sin(2 * np.pi * 3 * t))
    sigma = adaptive_sigma(t, signal, still=0.12, moving=0.02)
    assert sigma[t < 1.5].mean() > 0.1
    assert sigma[t > 2.5].mean() < 0.05
    fixed = adaptive_sigma(t, signal, still=0.12, moving=0.02, speed_scale=1e9)
    np.testing.assert_allclose(fixed, 0.12, atol=1e-6)


def test_one_euro_is_causal_and_steadies_a_still_signal():
    t, clean, noisy = _speech_like()
    still = np.random.default_rng(2).normal(0, 0.01, t.shape)
    f = OneEuroFilter(min_cutoff=1.0, beta=2.0)
    out = np.array([f(ti, v) for ti, v in zip(t, still, strict=True)])
    assert np.std(out[10:]) < 0.5 * np.std(still[10:])
    # causal: changing a future sample never changes the past
    g = OneEuroFilter(min_cutoff=1.0, beta=2.0)
    early = [g(ti, v) for ti, v in zip(t[:50], noisy[:50], strict=True)]
    g.reset()
    again = [g(ti, v) for ti, v in zip(t[:50], np.r_[noisy[:40], noisy[40:50] + 1.0], strict=True)]
    np.testing.assert_allclose(early[:40], again[:40])
    with pytest.raises(ValueError):
        g(t[49], 0.0)
    assert f.value is not None


def test_segments_split_at_cuts_and_gaps():
    times = np.array([0.0, 0.04, 0.08, 1.0, 1.04, 1.08, 1.12])
    cuts = np.zeros(7, dtype=bool)
    cuts[5] = True
    assert segments(times, cuts) == [slice(0, 3), slice(3, 5), slice(5, 7)]
    assert segments(times[:1]) == [slice(0, 1)]
