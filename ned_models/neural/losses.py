"""Training losses: the renderer's (GAN, feature matching, L1, structure) and the manipulator's.

No pretrained network is involved anywhere (NED's VGG19 term needs ImageNet weights that cannot be
fetched here); the structural term is SSIM computed from local statistics instead.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "lsgan_loss",
    "multiscale_lsgan_loss",
    "feature_matching_loss",
    "masked_l1_loss",
    "ssim",
    "structural_loss",
    "style_reconstruction_loss",
    "cycle_loss",
    "pearson_correlation",
    "mouth_correlation",
]


def lsgan_loss(scores: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    """Least-squares GAN loss: mean of (scores - 1)^2 for real targets, scores^2 for fake ones."""
    target = 1.0 if target_is_real else 0.0
    return torch.mean((scores - target) ** 2)


def multiscale_lsgan_loss(features: list[list[torch.Tensor]], target_is_real: bool) -> torch.Tensor:
    """LSGAN on a MultiscalePatchDiscriminator's output, summed over scales (as NED does).

    Args:
        features: per scale, the layer features; the last of each is the patch score map.
    """
    return sum(lsgan_loss(scale[-1], target_is_real) for scale in features)


def feature_matching_loss(
    fake: list[list[torch.Tensor]], real: list[list[torch.Tensor]], weight: float = 10.0
) -> torch.Tensor:
    """pix2pixHD feature matching: L1 between D's intermediate features on fake and (detached) real.

    Each scale's intermediate layers (all but the score map) are weighted by
    weight * 4 / (n_layers + 1) / num_d, NED's lambda_feat scaling.
    """
    num_d = len(fake)
    total = fake[0][0].new_zeros(())
    for fake_scale, real_scale in zip(fake, real, strict=True):
        n_layers = len(fake_scale) - 2
        layer_weight = weight * 4.0 / (n_layers + 1) / num_d
        for fake_feature, real_feature in zip(fake_scale[:-1], real_scale[:-1], strict=True):
            total = total + layer_weight * F.l1_loss(fake_feature, real_feature.detach())
    return total


def masked_l1_loss(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute error over the pixels where `mask` (B, 1, H, W) is set (all pixels without a mask)."""
    if mask is None:
        return F.l1_loss(prediction, target)
    weights = mask.expand_as(prediction)
    return (weights * (prediction - target).abs()).sum() / weights.sum().clamp_min(1.0)


def _gaussian_kernel(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2.0
    profile = torch.exp(-(coords**2) / (2.0 * sigma**2))
    profile = profile / profile.sum()
    return torch.outer(profile, profile).expand(channels, 1, size, size).contiguous()


def ssim(
    a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0, window: int = 11, sigma: float = 1.5
) -> torch.Tensor:
    """Per-pixel SSIM map of two (B, C, H, W) images (Gaussian window, Wang et al. 2004 constants).

    Args:
        a, b: intensities in [0, data_range]; the luminance term assumes non-negative values (a
            zero-mean signal such as a [-1, 1] image would make it meaningless).

    Returns:
        (B, C, H, W) SSIM values (1 = identical structure); borders use zero padding of the
        statistics, which only softens the outermost window/2 pixels.
    """
    channels = a.shape[1]
    kernel = _gaussian_kernel(window, sigma, channels, a)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, kernel, padding=window // 2, groups=channels)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mean_a, mean_b = blur(a), blur(b)
    var_a = blur(a * a) - mean_a**2
    var_b = blur(b * b) - mean_b**2
    covariance = blur(a * b) - mean_a * mean_b
    numerator = (2 * mean_a * mean_b + c1) * (2 * covariance + c2)
    denominator = (mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2)
    return numerator / denominator


def structural_loss(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """1 - SSIM of two [-1, 1] images (compared as [0, 1]), averaged over the mask (B, 1, H, W) if given."""
    dissimilarity = 1.0 - ssim((prediction + 1.0) * 0.5, (target + 1.0) * 0.5)
    if mask is None:
        return dissimilarity.mean()
    weights = mask.expand_as(dissimilarity)
    return (weights * dissimilarity).sum() / weights.sum().clamp_min(1.0)


def style_reconstruction_loss(predicted_style: torch.Tensor, target_style: torch.Tensor) -> torch.Tensor:
    """L1 between E(G(x, s)) and s: the output must carry the style it was given."""
    return F.l1_loss(predicted_style, target_style)


def cycle_loss(reconstruction: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """L1 between G(G(x, s_trg), E(x)) and x: translating back must recover the input."""
    return F.l1_loss(reconstruction, original)


def pearson_correlation(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation over the last axis: (..., T), (..., T) -> (...); 0 for a constant track."""
    a = a - a.mean(dim=-1, keepdim=True)
    b = b - b.mean(dim=-1, keepdim=True)
    return (a * b).sum(dim=-1) / (a.norm(dim=-1) * b.norm(dim=-1) + eps)


def mouth_correlation(a: torch.Tensor, b: torch.Tensor, channels: tuple[int, ...] = (0,)) -> torch.Tensor:
    """Mean Pearson correlation over a window of the speech channels of two (B, T, D) sequences.

    NED's mouth loss (ned_facts §2.4) is this on channel 0 (jaw opening), batch-averaged; training
    subtracts it so that the translated speech channels follow the source's time course.
    """
    index = list(channels)
    return pearson_correlation(a[:, :, index].transpose(1, 2), b[:, :, index].transpose(1, 2)).mean()
