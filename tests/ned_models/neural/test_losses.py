"""Loss functions: values on cases with known answers."""

from __future__ import annotations

import pytest
import torch

from ned_models.neural.losses import (
    cycle_loss,
    feature_matching_loss,
    lsgan_loss,
    masked_l1_loss,
    mouth_correlation,
    multiscale_lsgan_loss,
    pearson_correlation,
    ssim,
    structural_loss,
    style_reconstruction_loss,
)
from ned_models.neural.networks import MultiscalePatchDiscriminator


def test_lsgan_targets() -> None:
    scores = torch.tensor([0.0, 1.0, 2.0])
    assert lsgan_loss(scores, True).item() == pytest.approx((1 + 0 + 1) / 3)
    assert lsgan_loss(scores, False).item() == pytest.approx((0 + 1 + 4) / 3)


def test_multiscale_lsgan_sums_the_score_maps_of_every_scale() -> None:
    features = [[torch.zeros(1, 4, 2, 2), torch.full((1, 1, 2, 2), 2.0)], [torch.zeros(1, 1), torch.ones(1, 1, 1, 1)]]
    assert multiscale_lsgan_loss(features, False).item() == pytest.approx(4.0 + 1.0)


def test_feature_matching_is_zero_for_identical_inputs_and_ignores_real_gradients() -> None:
    discriminator = MultiscalePatchDiscriminator(input_nc=3, ndf=4).eval()
    image = torch.randn(1, 3, 32, 32)
    real = discriminator(image)
    assert feature_matching_loss(discriminator(image), real).item() == pytest.approx(0.0, abs=1e-6)
    fake_image = torch.randn(1, 3, 32, 32, requires_grad=True)
    real_image = torch.randn(1, 3, 32, 32, requires_grad=True)
    loss = feature_matching_loss(discriminator(fake_image), discriminator(real_image))
    loss.backward()
    assert loss.item() > 0 and fake_image.grad is not None and real_image.grad is None


def test_feature_matching_weights() -> None:
    """One scale, n_layers 1 (3 features): both intermediate L1s weighted 10 * 4 / 2 / 1 = 20."""
    fake = [[torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 1)]]
    real = [[torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.full((1, 1, 1, 1), 9.0)]]
    assert feature_matching_loss(fake, real).item() == pytest.approx(20.0)


def test_masked_l1_averages_inside_the_mask() -> None:
    prediction, target = torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
    target[..., 0, 0] = 1.0
    target[..., 1, 1] = 5.0
    mask = torch.zeros(1, 1, 2, 2)
    mask[..., 0, 0] = 1.0
    assert masked_l1_loss(prediction, target, mask).item() == pytest.approx(1.0)
    assert masked_l1_loss(prediction, target).item() == pytest.approx(6.0 / 4)


def test_ssim_is_one_for_identical_and_lower_for_noise() -> None:
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    assert torch.allclose(ssim((image + 1) / 2, (image + 1) / 2), torch.ones(1, 3, 32, 32), atol=1e-5)
    noisy = (image + 0.3 * torch.randn_like(image)).clamp(-1, 1)
    assert structural_loss(image, image).item() == pytest.approx(0.0, abs=1e-5)
    brighter = image * 0.9 + 0.1  # same structure, different exposure
    assert structural_loss(noisy, image).item() > 0.05
    assert structural_loss(noisy, image).item() > 5 * structural_loss(brighter, image).item()


def test_structural_loss_respects_the_mask() -> None:
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    other = image.clone()
    other[..., 16:] = torch.rand(1, 3, 32, 16) * 2 - 1  # only the right half differs
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., :8] = 1.0  # far from the change (beyond the 11-pixel window)
    assert structural_loss(other, image, mask).item() == pytest.approx(0.0, abs=1e-5)
    assert structural_loss(other, image).item() > 0.05


def test_pearson_correlation() -> None:
    track = torch.tensor([[0.0, 1.0, 3.0, 2.0]])
    assert pearson_correlation(track, 2 * track + 7).item() == pytest.approx(1.0)
    assert pearson_correlation(track, -track).item() == pytest.approx(-1.0)
    assert pearson_correlation(track, torch.ones_like(track)).item() == pytest.approx(0.0)


def test_mouth_correlation_uses_only_the_speech_channels() -> None:
    time = torch.linspace(0, 6, 10)
    source = torch.stack([torch.sin(time), torch.randn(10), torch.cos(time)], dim=1)[None]  # (1, 10, 3)
    edited = source.clone()
    edited[..., 1] = torch.randn(10)  # non-speech channel changed freely
    edited[..., 0] = 0.5 * edited[..., 0] + 0.2  # speech channel rescaled: same time course
    assert mouth_correlation(source, edited, (0,)).item() == pytest.approx(1.0, abs=1e-6)
    assert mouth_correlation(source, edited, (0, 2)).item() == pytest.approx(1.0, abs=1e-6)
    assert mouth_correlation(source, edited, (1,)).item() < 0.99


def test_style_and_cycle_are_l1() -> None:
    a, b = torch.zeros(2, 4), torch.full((2, 4), 0.5)
    assert style_reconstruction_loss(a, b).item() == pytest.approx(0.5)
    assert cycle_loss(a[:, None], b[:, None]).item() == pytest.approx(0.5)
