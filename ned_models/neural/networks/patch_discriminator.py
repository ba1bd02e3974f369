"""Multi-scale PatchGAN discriminator (pix2pixHD style), NED's image discriminator D and mouth one Dm.

Key layout (ned_facts §3.3, §4.2): layers registered directly on the module as
`scale{i}_layer{j}`, each a Sequential: layer 0 = (conv, LeakyReLU); layers 1..n-1 stride 2 and layer
n stride 1 = (conv, norm, LeakyReLU); the last layer = (conv to 1 channel). 4x4 kernels, padding 2,
widths doubling from ndf up to 512, NED's instance norm. The full-resolution input goes through the
highest scale index (scale1 for num_D 2) and each 2x average-pooled copy through the next lower one.
"""

from __future__ import annotations

import torch
from torch import nn

from ned_models.neural.networks.instance_norm import NedInstanceNorm2d

__all__ = ["MultiscalePatchDiscriminator"]

_KERNEL = 4
_PADDING = 2
_MAX_WIDTH = 512


def _scale_layers(input_nc: int, ndf: int, n_layers: int) -> list[nn.Sequential]:
    layers = [nn.Sequential(nn.Conv2d(input_nc, ndf, _KERNEL, stride=2, padding=_PADDING), nn.LeakyReLU(0.2))]
    width = ndf
    for index in range(1, n_layers + 1):
        previous, width = width, min(width * 2, _MAX_WIDTH)
        stride = 2 if index < n_layers else 1
        layers.append(
            nn.Sequential(
                nn.Conv2d(previous, width, _KERNEL, stride=stride, padding=_PADDING),
                NedInstanceNorm2d(width),
                nn.LeakyReLU(0.2),
            )
        )
    layers.append(nn.Sequential(nn.Conv2d(width, 1, _KERNEL, stride=1, padding=_PADDING)))
    return layers


class MultiscalePatchDiscriminator(nn.Module):
    """D(x) -> per scale, every layer's features; the last feature of each scale is its patch map.

    Args:
        input_nc: channels of the input (NED: conditioning 9 + RGB 3 = 12).
        ndf: width of the first layer (64).
        n_layers: stride-2 layers after the first (3).
        num_d: number of scales (2).
    """

    def __init__(self, input_nc: int = 12, ndf: int = 64, n_layers: int = 3, num_d: int = 2) -> None:
        super().__init__()
        self.num_d = num_d
        self.n_layers = n_layers
        for scale in range(num_d):
            for index, layer in enumerate(_scale_layers(input_nc, ndf, n_layers)):
                self.add_module(f"scale{scale}_layer{index}", layer)
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """Score `x` (B, input_nc, H, W) at every scale.

        Returns:
            num_d lists (full resolution first), each with n_layers + 2 feature maps; the last one
            (B, 1, h, w) holds the unbounded patch scores (LSGAN targets 1 real, 0 fake).
        """
        results = []
        for scale in reversed(range(self.num_d)):
            features = []
            h = x
            for index in range(self.n_layers + 2):
                h = getattr(self, f"scale{scale}_layer{index}")(h)
                features.append(h)
            results.append(features)
            if scale:
                x = self.downsample(x)
        return results
