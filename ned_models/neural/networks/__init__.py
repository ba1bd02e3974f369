"""nn.Modules only: NED's networks in their official layouts, and our own compact renderer generator."""

from ned_models.neural.networks.compact_generator import CompactGenerator, CompactGeneratorConfig
from ned_models.neural.networks.instance_norm import NedInstanceNorm2d
from ned_models.neural.networks.manipulator_generator import ManipulatorGenerator
from ned_models.neural.networks.mapping_network import MappingNetwork
from ned_models.neural.networks.ned_generator import NedGenerator
from ned_models.neural.networks.ned_manipulator import ManipulatorDims, NedManipulator
from ned_models.neural.networks.ned_resnet_block import NedResnetBlock
from ned_models.neural.networks.patch_discriminator import MultiscalePatchDiscriminator
from ned_models.neural.networks.sequence_discriminator import SequenceDiscriminator
from ned_models.neural.networks.style_encoder import StyleEncoder

__all__ = [
    "CompactGenerator",
    "CompactGeneratorConfig",
    "ManipulatorDims",
    "ManipulatorGenerator",
    "MappingNetwork",
    "MultiscalePatchDiscriminator",
    "NedGenerator",
    "NedInstanceNorm2d",
    "NedManipulator",
    "NedResnetBlock",
    "SequenceDiscriminator",
    "StyleEncoder",
]
