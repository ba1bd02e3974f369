"""The shape shared by NED's manipulator networks G, E and D: MLP, bidirectional LSTM, MLP per frame.

Key layout (ned_facts §4.2): `seq1.{0,2}` (Linear, ReLU, Linear, ReLU), `LSTM.*` (2 layers,
bidirectional, batch_first), `seq2.{0,2,4}` (Linear, ReLU, Linear, ReLU, Linear).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RecurrentMlp", "kaiming_init_linears"]


def kaiming_init_linears(module: nn.Module) -> None:
    """NED's init: Kaiming-normal (fan_in, ReLU) Linear weights, zero biases; LSTMs keep PyTorch's."""
    for child in module.modules():
        if isinstance(child, nn.Linear):
            nn.init.kaiming_normal_(child.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(child.bias)


class RecurrentMlp(nn.Module):
    """Per-frame (B, T, input_dim) -> (B, T, output_dim) through MLP, 2-layer BiLSTM, MLP.

    Args:
        input_dim: features per frame in.
        seq1_dims: widths of the two Linear layers before the LSTM.
        lstm_hidden: hidden size per direction (the LSTM outputs twice this).
        seq2_dims: widths of the three Linear layers after the LSTM, the last being output_dim.
    """

    def __init__(
        self, input_dim: int, seq1_dims: tuple[int, int], lstm_hidden: int, seq2_dims: tuple[int, int, int]
    ) -> None:
        super().__init__()
        self.seq1 = nn.Sequential(
            nn.Linear(input_dim, seq1_dims[0]), nn.ReLU(), nn.Linear(seq1_dims[0], seq1_dims[1]), nn.ReLU()
        )
        self.LSTM = nn.LSTM(seq1_dims[1], lstm_hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.seq2 = nn.Sequential(
            nn.Linear(2 * lstm_hidden, seq2_dims[0]),
            nn.ReLU(),
            nn.Linear(seq2_dims[0], seq2_dims[1]),
            nn.ReLU(),
            nn.Linear(seq2_dims[1], seq2_dims[2]),
        )
        kaiming_init_linears(self)

    def per_frame(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, input_dim) -> (B, T, seq2_dims[-1])."""
        recurrent, _ = self.LSTM(self.seq1(x))
        return self.seq2(recurrent)
