"""NED's per-actor renderer generator G (Head2Head / vid2vid lineage), with the official key layout.

Facts (ned_facts.md §3.2, §4.2): two encoder streams (conditioning images and previously generated
frames) summed at the bottleneck, ResNet blocks, transposed-conv decoder, tanh output masked by the
current frame's face mask (background -1). Top-level modules and names are NED's: `model_down_seg`,
`model_down_img`, `model_res_img`, `model_up_img`, `model_final_img`.

Assumptions (not pinned by the facts; chosen to follow pix2pixHD/vid2vid's Sequential layouts, and
checked by the loader, which lists every missing or unexpected key when a real file differs):
- Encoder Sequential: 0 ReflectionPad2d(3), 1 Conv 7x7, 2 norm, 3 ReLU, then per downsampling
  (conv 3x3 stride 2, norm, ReLU) at 4-6, 7-9, 10-12, then the stream's ResNet blocks from 13 on.
  The previous-frames stream has the same layout (its own weights) with 6 input channels.
- Decoder Sequential: per upsampling (ConvTranspose 3x3 stride 2, padding 1, output padding 1, norm,
  ReLU) at 0-2, 3-5, 6-8. Final: 0 ReflectionPad2d(3), 1 Conv 7x7 to 3 channels, 2 Tanh.
- Every conv has a bias (PyTorch's default), although an instance norm follows most of them.
- Conditioning channel order: frame-major, oldest first (t-2, t-1, t), each frame NMFC (3), eye
  image (3), shape image (3); previous outputs likewise oldest first (t-2, t-1), each RGB in [-1, 1].
"""

from __future__ import annotations

import torch
from torch import nn

from ned_models.neural.networks.instance_norm import NedInstanceNorm2d
from ned_models.neural.networks.ned_resnet_block import NedResnetBlock

__all__ = ["NedGenerator"]


def _encoder(in_channels: int, ngf: int, n_downsampling: int, n_blocks: int) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(3),
        nn.Conv2d(in_channels, ngf, kernel_size=7),
        NedInstanceNorm2d(ngf),
        nn.ReLU(),
    ]
    for level in range(n_downsampling):
        width = ngf * 2**level
        layers += [
            nn.Conv2d(width, width * 2, kernel_size=3, stride=2, padding=1),
            NedInstanceNorm2d(width * 2),
            nn.ReLU(),
        ]
    layers += [NedResnetBlock(ngf * 2**n_downsampling) for _ in range(n_blocks)]
    return nn.Sequential(*layers)


def _decoder(ngf: int, n_downsampling: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for level in range(n_downsampling, 0, -1):
        width = ngf * 2**level
        layers += [
            nn.ConvTranspose2d(width, width // 2, kernel_size=3, stride=2, padding=1, output_padding=1),
            NedInstanceNorm2d(width // 2),
            nn.ReLU(),
        ]
    return nn.Sequential(*layers)


class NedGenerator(nn.Module):
    """G(conditioning, previous, mask) -> masked face in [-1, 1], NED's renderer at its defaults.

    Args:
        input_nc: conditioning channels, 27 = 3 frames x (NMFC 3 + eye 3 + shape 3).
        prev_nc: previous-output channels, 6 = 2 frames x RGB.
        output_nc: 3 (RGB).
        ngf: width after the first conv (64).
        n_downsampling: stride-2 convs per encoder (3: 256 -> 32).
        n_blocks: ResNet blocks in all: n_blocks - n_blocks // 2 (5) in each encoder stream before
            the sum, n_blocks // 2 (4) after it.
    """

    def __init__(
        self,
        input_nc: int = 27,
        prev_nc: int = 6,
        output_nc: int = 3,
        ngf: int = 64,
        n_downsampling: int = 3,
        n_blocks: int = 9,
    ) -> None:
        super().__init__()
        stream_blocks = n_blocks - n_blocks // 2
        bottleneck = ngf * 2**n_downsampling
        self.model_down_seg = _encoder(input_nc, ngf, n_downsampling, stream_blocks)
        self.model_down_img = _encoder(prev_nc, ngf, n_downsampling, stream_blocks)
        self.model_res_img = nn.Sequential(*[NedResnetBlock(bottleneck) for _ in range(n_blocks // 2)])
        self.model_up_img = _decoder(ngf, n_downsampling)
        self.model_final_img = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7), nn.Tanh())

    def forward(self, conditioning: torch.Tensor, previous: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Render one frame per batch item.

        Args:
            conditioning: (B, 27, H, W) float32 [0, 1], see the module docstring for channel order.
            previous: (B, 6, H, W) float32 [-1, 1], zeros at the start of a sequence (as NED does).
            mask: (B, 1, H, W) float32 {0, 1}, the current frame's face mask.

        Returns:
            (B, 3, H, W) float32 [-1, 1]: the face inside the mask, -1 outside. H and W must be
            multiples of 2**n_downsampling (NED uses 256).
        """
        features = self.model_down_seg(conditioning) + self.model_down_img(previous)  # (B, 512, H/8, W/8)
        image = self.model_final_img(self.model_up_img(self.model_res_img(features)))
        return image * mask - (1.0 - mask)

    @staticmethod
    def split_conditioning(frames: torch.Tensor, channels_per_frame: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
        """Strip the mask channel from NED's per-frame stacks, as NED's generator does on entry.

        Args:
            frames: (B, n * 10, H, W): n frames oldest first, each NMFC 3, eye 3, shape 3, mask 1.
            channels_per_frame: 10 in NED.

        Returns:
            (conditioning (B, n * 9, H, W), current-frame mask (B, 1, H, W)).
        """
        batch, channels, height, width = frames.shape
        if channels % channels_per_frame:
            raise ValueError(f"{channels} channels is not a whole number of {channels_per_frame}-channel frames")
        stacked = frames.reshape(batch, channels // channels_per_frame, channels_per_frame, height, width)
        conditioning = stacked[:, :, :-1].reshape(batch, -1, height, width)
        return conditioning, stacked[:, -1, -1:]
