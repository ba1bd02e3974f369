"""NED's mapping network F(z, y) (ned_facts §2.3): a random latent to an emotion's style vector."""

from __future__ import annotations

import torch
from torch import nn

from ned_models.neural.networks.recurrent_mlp import kaiming_init_linears

__all__ = ["MappingNetwork"]


class MappingNetwork(nn.Module):
    """F(z, y): shared MLP trunk, then one unshared head per emotion; head y gives the style.

    Keys: `shared.{0,2,4}`, `unshared.{0..num_domains-1}.{0,2}` (NED's layout).

    Args:
        latent_dim: size of z (4).
        style_dim: style size (16).
        num_domains: emotions (7).
        width: hidden width (64); about 45 k parameters at NED's sizes.
    """

    def __init__(self, latent_dim: int = 4, style_dim: int = 16, num_domains: int = 7, width: int = 64) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.shared = nn.Sequential(
            nn.Linear(latent_dim, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
        )
        self.unshared = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, style_dim)) for _ in range(num_domains)
        )
        kaiming_init_linears(self)

    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) latents and (B,) int64 labels -> (B, style_dim) styles."""
        hidden = self.shared(z)
        styles = torch.stack([head(hidden) for head in self.unshared], dim=1)  # (B, num_domains, style_dim)
        index = label.long().view(-1, 1, 1).expand(-1, 1, styles.shape[2])
        return styles.gather(1, index).squeeze(1)
