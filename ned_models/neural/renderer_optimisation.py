"""The renderer's networks, losses and one optimisation step (NED's recipe, sized for a CPU).

G is our CompactGenerator; D a 2-scale PatchGAN on the current frame's conditioning (NMFC, eyes,
warped source: the mask is dropped, as NED drops it) stacked with the image; Dm the same
architecture on a square around the mouth (NED: 72 px at 256). Losses (ned_facts §3.3): LSGAN for
D, D = 0.5 (real + fake) per discriminator; G = LSGAN + feature matching of both discriminators,
plus a masked L1 and a structural (1 - SSIM) term in place of NED's VGG loss (no pretrained network
can be fetched; both are measured on the face only). Adam, lr 2e-4, betas (0.5, 0.999) as NED.

What is validated and exported is not G's latest weights but their exponential moving average
(`average`, decay 0.99: about the last hundred steps). With a batch of two, G's weights swing from
step to step: on a 10 s clip its held-out PSNR fell from 27.66 to 24.96 dB and rose back to 27.27
within a few hundred steps, while the average stayed at 27.61-27.67 dB (warp alone 27.57). The
average still wanders over a run (27.39 dB at the end of another 15-minute run), so the job keeps
the best average it has validated (`remember_if_best`) and exports that one.

Mixed precision: the convolutions run in bfloat16 where the device supports it (2.3x faster on this
machine's AVX-512-BF16 CPU), the weights, the residual sum in G and every loss stay float32.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ned_models.neural.losses import feature_matching_loss, masked_l1_loss, multiscale_lsgan_loss, structural_loss
from ned_models.neural.networks import CompactGenerator, CompactGeneratorConfig, MultiscalePatchDiscriminator

__all__ = ["LossWeights", "RendererBatch", "StepLosses", "RendererNetworks", "supports_bfloat16"]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the generator's loss terms (NED: gan 1, feature matching 10, VGG 10).

    Ours lean on the reconstruction terms: a per-shot budget of minutes is hundreds to a few
    thousand steps on a few hundred frames, where the adversarial terms teach the generator
    detail that does not carry over to other frames of the shot. Measured on liveportrait_d10
    (15 CPU minutes, 58 test frames, warp alone 24.81 dB): gan 1 and feature matching 2 gave
    24.65 dB, worse than the warp; gan 0.1 and feature matching 0.2 gave 25.07 dB; no adversarial
    terms at all 25.04 dB (both runs on one thread each, so about 1150 steps; the adopted weights
    reach 25.26 dB in a full 15-minute run). NED's weights suit its days of GPU training on
    thousands of frames, not this budget.
    """

    gan: float = 0.1
    feature_matching: float = 0.2
    l1: float = 50.0
    structural: float = 10.0
    mouth: float = 1.0  # scales the mouth discriminator's GAN + feature-matching terms


@dataclass(frozen=True)
class RendererBatch:
    """One step's inputs, (B, C, S, S) float32 on the training device.

    Attributes:
        conditioning: (B, n_frames * 10, S, S) [0, 1], oldest frame first.
        previous: (B, 3 * n_previous, S, S) [-1, 1].
        source: (B, 3, S, S) [-1, 1] the warped source.
        mask: (B, 1, S, S) {0, 1}.
        target: (B, 3, S, S) [-1, 1], -1 outside the mask.
        mouth_boxes: top-left (x, y) of each item's mouth square.
    """

    conditioning: torch.Tensor
    previous: torch.Tensor
    source: torch.Tensor
    mask: torch.Tensor
    target: torch.Tensor
    mouth_boxes: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class StepLosses:
    """Scalar losses of one step (G's terms unweighted, so runs with other weights compare)."""

    d_image: float
    d_mouth: float
    g_gan: float
    g_feature_matching: float
    g_l1: float
    g_structural: float
    g_total: float


def supports_bfloat16(device: torch.device) -> bool:
    """Whether bfloat16 convolutions are fast on `device` (CUDA with bf16, or a CPU with AVX-512-BF16/AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _silence_feedback(generator: CompactGenerator) -> None:
    """Start the previous-outputs stream at exactly zero (stem weights and every bias zero).

    Its features are added to the conditioning stream's at every scale; with a random start they
    are noise the generator must first learn to cancel, and in a budget of a few hundred steps it
    never does (measured on the synthetic test shot: held-out PSNR 26.5 dB with a random stream,
    28.3 dB without one, after 240 steps). Silenced, the stream's gradients still reach the stem
    through the random weights after it, so it grows wherever the previous frames help.
    """
    encoder = generator.previous_encoder
    if encoder is None:
        return
    with torch.no_grad():
        for name, parameter in encoder.named_parameters():
            if name.endswith("bias") or name.startswith("stem."):
                parameter.zero_()


def _float(features: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
    return [[f.float() for f in scale] for scale in features]


class RendererNetworks(nn.Module):
    """G, D and Dm with their optimisers.

    Args:
        generator: G's architecture (channels_per_frame must be 10).
        ndf: the discriminators' first width (NED: 64).
        mouth_box: side of the mouth square in pixels.
        lr, betas: Adam settings of all three networks.
        bfloat16: run the convolutions in bfloat16 (autocast).
        average_decay: of the moving average of G's weights (`average`), what `render` runs.
    """

    def __init__(self, generator: CompactGeneratorConfig, ndf: int, mouth_box: int, lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), bfloat16: bool = False,
                 average_decay: float = 0.99) -> None:
        super().__init__()
        if not 0.0 <= average_decay < 1.0:
            raise ValueError(f"average_decay must be in [0, 1), got {average_decay}")
        self.generator = CompactGenerator(generator)
        _silence_feedback(self.generator)
        self.average = copy.deepcopy(self.generator).requires_grad_(False).eval()
        self.average_decay = average_decay
        self.average_updates = 0
        self.best: tuple[int, float, dict[str, torch.Tensor]] | None = None  # (step, score, average's weights)
        d_channels = generator.channels_per_frame - 1 + 3
        self.image_d = MultiscalePatchDiscriminator(d_channels, ndf, n_layers=3, num_d=2)
        self.mouth_d = MultiscalePatchDiscriminator(d_channels, ndf, n_layers=3, num_d=2)
        self.mouth_box = mouth_box
        self.ndf = ndf
        self.bfloat16 = bfloat16
        self.g_optimiser = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=betas)
        d_parameters = list(self.image_d.parameters()) + list(self.mouth_d.parameters())
        self.d_optimiser = torch.optim.Adam(d_parameters, lr=lr, betas=betas)

    def _autocast(self, device: torch.device) -> torch.autocast:
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bfloat16)

    def _mouths(self, images: torch.Tensor, boxes: tuple[tuple[int, int], ...]) -> torch.Tensor:
        side = self.mouth_box
        return torch.stack([images[i, :, y:y + side, x:x + side] for i, (x, y) in enumerate(boxes)])

    def _discriminate(self, condition: torch.Tensor, image: torch.Tensor, boxes: tuple[tuple[int, int], ...]):
        pair = torch.cat([condition, image], dim=1)
        return self.image_d(pair), self.mouth_d(self._mouths(pair, boxes))

    def train_step(self, batch: RendererBatch, weights: LossWeights) -> tuple[torch.Tensor, StepLosses]:
        """One D update then one G update; returns G's (detached) output and the losses."""
        device = batch.target.device
        channels = self.generator.config.channels_per_frame
        condition = batch.conditioning[:, -channels:-1]  # the current frame, mask dropped
        with self._autocast(device):
            fake = self.generator(batch.conditioning, batch.previous, batch.source, batch.mask)

        self.image_d.requires_grad_(True)
        self.mouth_d.requires_grad_(True)
        with self._autocast(device):
            real_image, real_mouth = self._discriminate(condition, batch.target, batch.mouth_boxes)
            fake_image, fake_mouth = self._discriminate(condition, fake.detach(), batch.mouth_boxes)
        real_image, real_mouth = _float(real_image), _float(real_mouth)
        d_image = 0.5 * (multiscale_lsgan_loss(real_image, True) + multiscale_lsgan_loss(_float(fake_image), False))
        d_mouth = 0.5 * (multiscale_lsgan_loss(real_mouth, True) + multiscale_lsgan_loss(_float(fake_mouth), False))
        self.d_optimiser.zero_grad(set_to_none=True)
        (d_image + d_mouth).backward()
        self.d_optimiser.step()

        self.image_d.requires_grad_(False)  # G's step needs gradients through D, not for D
        self.mouth_d.requires_grad_(False)
        with self._autocast(device):
            fake_image, fake_mouth = self._discriminate(condition, fake, batch.mouth_boxes)
        fake_image, fake_mouth = _float(fake_image), _float(fake_mouth)
        fake = fake.float()
        gan = multiscale_lsgan_loss(fake_image, True) + weights.mouth * multiscale_lsgan_loss(fake_mouth, True)
        matching = feature_matching_loss(fake_image, real_image, 1.0) + weights.mouth * feature_matching_loss(
            fake_mouth, real_mouth, 1.0)
        l1 = masked_l1_loss(fake, batch.target, batch.mask)
        structural = structural_loss(fake, batch.target, batch.mask)
        total = (weights.gan * gan + weights.feature_matching * matching + weights.l1 * l1
                 + weights.structural * structural)
        self.g_optimiser.zero_grad(set_to_none=True)
        total.backward()
        self.g_optimiser.step()
        self._update_average()
        losses = StepLosses(d_image=d_image.item(), d_mouth=d_mouth.item(), g_gan=gan.item(),
                            g_feature_matching=matching.item(), g_l1=l1.item(), g_structural=structural.item(),
                            g_total=total.item())
        return fake.detach(), losses

    @torch.no_grad()
    def _update_average(self) -> None:
        """average <- d * average + (1 - d) * G, with d ramping up over the first steps (an early
        average would otherwise hold the untrained network for hundreds of steps)."""
        self.average_updates += 1
        decay = min(self.average_decay, (1.0 + self.average_updates) / (10.0 + self.average_updates))
        for averaged, current in zip(self.average.parameters(), self.generator.parameters(), strict=True):
            averaged.lerp_(current.detach(), 1.0 - decay)

    @torch.no_grad()
    def render(self, conditioning: torch.Tensor, previous: torch.Tensor, source: torch.Tensor,
               mask: torch.Tensor, exact: bool = False) -> torch.Tensor:
        """The averaged G's output in float32 (validation); `exact` runs it all in float32, as exported."""
        with torch.autocast(source.device.type, dtype=torch.bfloat16, enabled=self.bfloat16 and not exact):
            return self.average(conditioning, previous, source, mask).float()

    def remember_if_best(self, step: int, score: float) -> bool:
        """Keep a copy of the average's weights if `score` (a validation PSNR) beats the best so far."""
        if self.best is not None and score <= self.best[1]:
            return False
        self.best = (step, float(score), {k: v.detach().clone() for k, v in self.average.state_dict().items()})
        return True

    def restore_best(self) -> int | None:
        """Put the best remembered weights into `average`; returns their step (None: nothing remembered)."""
        if self.best is None:
            return None
        self.average.load_state_dict(self.best[2])
        return self.best[0]

    def training_state(self) -> dict[str, object]:
        """Everything to resume from: the networks, G's average (latest and best) and both optimisers
        (tensors and plain containers)."""
        best = {} if self.best is None else {"best_step": self.best[0], "best_score": self.best[1],
                                             "best_average": self.best[2]}
        return {"generator": self.generator.state_dict(), "average": self.average.state_dict(),
                "average_updates": self.average_updates, "image_d": self.image_d.state_dict(),
                "mouth_d": self.mouth_d.state_dict(), "g_optimiser": self.g_optimiser.state_dict(),
                "d_optimiser": self.d_optimiser.state_dict(), **best}

    def load_training_state(self, state: dict[str, object]) -> None:
        """Restore `training_state()` (the architecture must match; torch raises otherwise)."""
        self.generator.load_state_dict(state["generator"])
        self.average.load_state_dict(state["average"])
        self.average_updates = int(state["average_updates"])
        self.best = None
        if "best_average" in state:
            best, reference = state["best_average"], self.average.state_dict()
            if best.keys() != reference.keys() or any(best[k].shape != v.shape for k, v in reference.items()):
                raise RuntimeError("the best average's weights do not fit the generator")
            self.best = (int(state["best_step"]), float(state["best_score"]), best)
        self.image_d.load_state_dict(state["image_d"])
        self.mouth_d.load_state_dict(state["mouth_d"])
        self.g_optimiser.load_state_dict(state["g_optimiser"])
        self.d_optimiser.load_state_dict(state["d_optimiser"])
