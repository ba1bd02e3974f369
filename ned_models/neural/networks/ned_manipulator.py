"""The four networks of NED's emotion manipulator, kept together as one checkpoint holds them."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ned_models.neural.networks.manipulator_generator import ManipulatorGenerator
from ned_models.neural.networks.mapping_network import MappingNetwork
from ned_models.neural.networks.sequence_discriminator import SequenceDiscriminator
from ned_models.neural.networks.style_encoder import StyleEncoder

__all__ = ["ManipulatorDims", "NedManipulator"]


@dataclass(frozen=True)
class ManipulatorDims:
    """Sizes of the manipulator networks; the defaults are NED's (its checkpoints use exactly these).

    Attributes:
        input_dim: expression features per frame (NED: 51 = jaw opening + 50 DECA exp).
        style_dim: style vector size.
        latent_dim: mapping-network input size.
        num_domains: emotions, in NED's label order.
        generator_width: G's width (its LSTM hidden size).
        encoder_width: E's and D's width.
        mapping_width: F's hidden width.
    """

    input_dim: int = 51
    style_dim: int = 16
    latent_dim: int = 4
    num_domains: int = 7
    generator_width: int = 512
    encoder_width: int = 256
    mapping_width: int = 64

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ManipulatorDims.{name} must be a positive int, got {value!r}")
        if self.encoder_width % 4:
            raise ValueError(f"encoder_width must be a multiple of 4, got {self.encoder_width}")


class NedManipulator(nn.Module):
    """generator G(x, s), mapping_network F(z, y), style_encoder E(x), discriminator D(x, y).

    The attribute names are the top-level keys of NED's `NN_nets[_finetuned].pth`.
    """

    def __init__(self, dims: ManipulatorDims | None = None) -> None:
        super().__init__()
        self.dims = dims or ManipulatorDims()
        d = self.dims
        self.generator = ManipulatorGenerator(d.input_dim, d.style_dim, d.generator_width)
        self.mapping_network = MappingNetwork(d.latent_dim, d.style_dim, d.num_domains, d.mapping_width)
        self.style_encoder = StyleEncoder(d.input_dim, d.style_dim, d.encoder_width)
        self.discriminator = SequenceDiscriminator(d.input_dim, d.num_domains, d.encoder_width)
