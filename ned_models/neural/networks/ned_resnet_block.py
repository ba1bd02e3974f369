"""The residual block of NED's renderer generator (pix2pixHD/vid2vid style), with NED's key layout."""

from __future__ import annotations

import torch
from torch import nn

from ned_models.neural.networks.instance_norm import NedInstanceNorm2d

__all__ = ["NedResnetBlock"]


class NedResnetBlock(nn.Module):
    """x + [pad, conv3x3, norm, ReLU, pad, conv3x3, norm](x) at constant width, reflection padded.

    NED's block registers the same Sequential under two attribute names, `conv_block` and
    `resnetblock_sequential`; the parameters are shared (and counted once), but `state_dict()` lists
    them under both prefixes, which is why official renderer checkpoints hold every block tensor twice.
    Indices inside the Sequential follow pix2pixHD's block without dropout: conv at 1 and 5, norm at 2
    and 6 (an assumption: NED's facts pin the two names, not the indices).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3),
            NedInstanceNorm2d(dim),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3),
            NedInstanceNorm2d(dim),
        )
        self.conv_block = block
        self.resnetblock_sequential = block  # same module, second name: NED's checkpoints carry both

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, dim, H, W) -> (B, dim, H, W)."""
        return x + self.conv_block(x)
