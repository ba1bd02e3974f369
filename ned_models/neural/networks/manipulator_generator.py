"""NED's expression translator G(x, s) (ned_facts §2.3): a sequence of expression vectors to another."""

from __future__ import annotations

import torch

from ned_models.neural.networks.recurrent_mlp import RecurrentMlp

__all__ = ["ManipulatorGenerator"]


class ManipulatorGenerator(RecurrentMlp):
    """G(x, s): the style s is repeated over time, joined to every frame, and the whole window translated.

    Output is the full translated sequence (no residual to the input, no tanh), as in NED. With NED's
    sizes (input_dim 51, style_dim 16, width 512) it has about 12.95 M parameters.

    Args:
        input_dim: expression features per frame (NED: 51 = jaw opening + 50 DECA exp).
        style_dim: style vector size (16).
        width: width before the LSTM and its hidden size per direction (512); the layers after the
            LSTM are twice as wide.
    """

    def __init__(self, input_dim: int = 51, style_dim: int = 16, width: int = 512) -> None:
        super().__init__(input_dim + style_dim, (width, width), width, (2 * width, 2 * width, input_dim))
        self.input_dim = input_dim
        self.style_dim = style_dim

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """(B, T, input_dim) expression windows and (B, style_dim) styles -> (B, T, input_dim)."""
        repeated = style.unsqueeze(1).expand(-1, x.shape[1], -1)  # (B, T, style_dim)
        return self.per_frame(torch.cat([x, repeated], dim=2))
