"""NED's manipulator discriminator D(x, y) (ned_facts §2.3): one real/fake logit per emotion."""

from __future__ import annotations

import torch

from ned_models.neural.networks.recurrent_mlp import RecurrentMlp

__all__ = ["SequenceDiscriminator"]


class SequenceDiscriminator(RecurrentMlp):
    """D(x, y): the style encoder's trunk with num_domains outputs, averaged over time, logit y picked.

    Args:
        input_dim: expression features per frame (NED: 51).
        num_domains: emotions (7, NED's label order).
        width: as in StyleEncoder (256).
    """

    def __init__(self, input_dim: int = 51, num_domains: int = 7, width: int = 256) -> None:
        super().__init__(input_dim, (2 * width, width), width // 2, (width // 2, width // 4, num_domains))

    def forward(self, x: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """(B, T, input_dim) windows and (B,) int64 labels -> (B,) unbounded logits (LSGAN)."""
        logits = self.per_frame(x).mean(dim=1)  # (B, num_domains)
        return logits.gather(1, label.long().unsqueeze(1)).squeeze(1)
