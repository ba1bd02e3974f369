"""Our renderer generator: NED's two-stream idea, sized for CPU training and predicting a residual.

NED's generator (about 71 M parameters, ~100 GMAC per 256x256 frame) cannot be trained per shot in
minutes on a laptop CPU. This one keeps what matters for video: a conditioning stream (per-frame
images of the edited face for the current and previous frames) and a stream of the previously
generated frames, fused at every scale. Two changes make it trainable in minutes:
- It is a U-Net (skip connections at every scale), so fine detail needs no bottleneck round trip.
- It predicts a correction to the warped source face (one of its conditioning images), and its last
  conv starts at zero: an untrained network reproduces the warp renderer exactly, and training only
  has to learn what the warp gets wrong (mouth interior, shading, wrinkles).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CompactGeneratorConfig", "CompactGenerator"]


@dataclass(frozen=True)
class CompactGeneratorConfig:
    """Architecture hyperparameters; they are stored in every checkpoint next to the weights.

    Attributes:
        channels_per_frame: conditioning channels per frame (e.g. NMFC 3 + eye 3 + warped source 3 +
            mask 1 = 10); the layout inside a frame is the caller's, the network only counts.
        n_frames: conditioning frames (current + previous), stacked oldest first.
        n_previous: previously generated RGB frames fed back (0 disables the second stream).
        ngf: width at full resolution; each downsampling doubles it up to max_channels.
        n_downsampling: stride-2 levels (3: 256 -> 32).
        n_blocks: residual blocks at the bottleneck.
        max_channels: cap on the width.
    """

    channels_per_frame: int = 10
    n_frames: int = 3
    n_previous: int = 2
    ngf: int = 16
    n_downsampling: int = 3
    n_blocks: int = 2
    max_channels: int = 128

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            minimum = 0 if field.name in ("n_previous", "n_blocks", "n_downsampling") else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"CompactGeneratorConfig.{field.name} must be an int >= {minimum}, got {value!r}")

    def widths(self) -> list[int]:
        """Feature width at each level, full resolution first (n_downsampling + 1 entries)."""
        return [min(self.ngf * 2**level, self.max_channels) for level in range(self.n_downsampling + 1)]

    def to_dict(self) -> dict[str, int]:
        """Plain dict for a checkpoint (ints only, loadable with weights_only=True)."""
        return asdict(self)


def _conv(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1), nn.LeakyReLU(0.2))


class _Encoder(nn.Module):
    """Stem at full resolution, then (stride-2 conv, conv) per level; returns every level's features."""

    def __init__(self, in_channels: int, widths: list[int]) -> None:
        super().__init__()
        self.stem = _conv(in_channels, widths[0])
        self.levels = nn.ModuleList(
            nn.Sequential(_conv(widths[i], widths[i + 1], stride=2), _conv(widths[i + 1], widths[i + 1]))
            for i in range(len(widths) - 1)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stem(x)]
        for level in self.levels:
            features.append(level(features[-1]))
        return features


class _ResidualBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(width, width), nn.Conv2d(width, width, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x + self.body(x), 0.2)


class CompactGenerator(nn.Module):
    """G(conditioning, previous, source, mask) -> masked face in [-1, 1] (background -1, as NED's)."""

    def __init__(self, config: CompactGeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or CompactGeneratorConfig()
        widths = self.config.widths()
        self.conditioning_encoder = _Encoder(self.config.channels_per_frame * self.config.n_frames, widths)
        self.previous_encoder = _Encoder(3 * self.config.n_previous, widths) if self.config.n_previous else None
        self.bottleneck = nn.Sequential(*[_ResidualBlock(widths[-1]) for _ in range(self.config.n_blocks)])
        self.decoder = nn.ModuleList(
            _conv(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1))
        )
        self.head = nn.Conv2d(widths[0], 3, 3, padding=1)
        nn.init.zeros_(self.head.weight)  # untrained output == the warped source
        nn.init.zeros_(self.head.bias)

    def forward(
        self, conditioning: torch.Tensor, previous: torch.Tensor, source: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Render one frame per batch item.

        Args:
            conditioning: (B, n_frames * channels_per_frame, H, W) float32, frames oldest first.
            previous: (B, 3 * n_previous, H, W) float32 [-1, 1], oldest first; zeros at a sequence
                start. Ignored (may be (B, 0, H, W)) when n_previous is 0.
            source: (B, 3, H, W) float32 [-1, 1], the warped source face of the current frame.
            mask: (B, 1, H, W) float32 [0, 1], the current frame's face mask.

        Returns:
            (B, 3, H, W) float32 [-1, 1]: clamp(source + correction) inside the mask, -1 outside.
            H and W must be multiples of 2**n_downsampling.
        """
        skips = self.conditioning_encoder(conditioning)
        if self.previous_encoder is not None:
            skips = [a + b for a, b in zip(skips, self.previous_encoder(previous), strict=True)]
        h = self.bottleneck(skips[-1])
        for block, skip in zip(self.decoder, reversed(skips[:-1]), strict=True):
            h = F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False)
            h = block(torch.cat([h, skip], dim=1))
        face = torch.clamp(source + self.head(h), -1.0, 1.0)
        return face * mask - (1.0 - mask)
