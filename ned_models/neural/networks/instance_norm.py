"""NED's instance normalisation: running-stat buffers in the checkpoint, per-instance statistics always."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["NedInstanceNorm2d"]


class NedInstanceNorm2d(nn.InstanceNorm2d):
    """InstanceNorm2d(affine=False, track_running_stats=True), evaluated the way NED evaluates it.

    NED builds its renderer's norms with running statistics, so its checkpoints carry
    `running_mean`, `running_var` and `num_batches_tracked` for every norm, but its test script never
    calls `.eval()`: every forward pass normalises with the statistics of the instance itself. This
    module keeps both facts: in training mode it is PyTorch's InstanceNorm2d (buffers update as in
    NED's training), and in eval mode it still normalises per instance and ignores the buffers. So
    `.eval()` and ONNX export reproduce NED's test-time output, and loading a NED file needs no
    special casing. There is no affine weight or bias, as in NED.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum, affine=False, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise each (sample, channel) plane of `x` (B, C, H, W) to zero mean and unit variance."""
        if self.training:
            return super().forward(x)
        return F.instance_norm(x, eps=self.eps)
