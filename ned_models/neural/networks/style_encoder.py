"""NED's style encoder E(x) (ned_facts §2.3): one style per window, a single head for all emotions."""

from __future__ import annotations

import torch

from ned_models.neural.networks.recurrent_mlp import RecurrentMlp

__all__ = ["StyleEncoder"]


class StyleEncoder(RecurrentMlp):
    """E(x): per-frame styles averaged over time (unlike StarGAN v2, not one head per domain).

    Args:
        input_dim: expression features per frame (NED: 51).
        style_dim: output size (16).
        width: NED's 256; the layers are 2w, w | BiLSTM w/2 per direction | w/2, w/4, style_dim
            (512, 256 | 128 | 128, 64, 16: about 0.99 M parameters).
    """

    def __init__(self, input_dim: int = 51, style_dim: int = 16, width: int = 256) -> None:
        super().__init__(input_dim, (2 * width, width), width // 2, (width // 2, width // 4, style_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, input_dim) -> (B, style_dim)."""
        return self.per_frame(x).mean(dim=1)
