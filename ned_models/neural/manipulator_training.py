"""Training of NED's emotion manipulator on emotion-labelled expression sequences (StarGAN-v2 pattern).

Each step does, in NED's order (ned_facts §2.4): D with latent styles, D with reference styles,
G with latent styles (updates G, F and E), G with reference styles (updates G only). Losses: LSGAN on
the label-selected logit; style reconstruction; cycle consistency; minus the Pearson correlation of
the speech channels (input vs translated, translated vs cycled). No R1 penalty, no diversity loss.
The expression space is whatever the clips hold ((T, D) per clip); NED's is D = 51.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ned_models.neural.losses import cycle_loss, lsgan_loss, mouth_correlation, style_reconstruction_loss
from ned_models.neural.manipulator_data import ExpressionClip, WindowSampler
from ned_models.neural.networks import ManipulatorDims, NedManipulator

__all__ = ["ManipulatorTrainingConfig", "ManipulatorStepLosses", "train_manipulator", "mean_losses"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManipulatorTrainingConfig:
    """Optimisation settings; the defaults are NED's where NED has one.

    Attributes:
        steps: optimisation steps (each one D-latent, D-ref, G-latent, G-ref update).
        batch_size: windows per step (NED: 64).
        seq_len: frames per window (NED: 10).
        lr: Adam learning rate of G, E and D (NED: 1e-4).
        mapping_lr: Adam learning rate of F (NED: 1e-4).
        betas: Adam betas (NED: (0.0, 0.99)).
        decay_after: fraction of the steps at a constant rate; the rate then falls linearly to zero
            (NED: half of its 20 epochs).
        lambda_sty, lambda_cyc, lambda_mouth: loss weights (NED: all 1).
        mouth_channels: indices of the speech channels (NED: 0, the jaw opening).
        seed: seeds torch and the window sampler (NED: 777).
        log_every: steps between log lines.
    """

    steps: int = 10_000
    batch_size: int = 64
    seq_len: int = 10
    lr: float = 1e-4
    mapping_lr: float = 1e-4
    betas: tuple[float, float] = (0.0, 0.99)
    decay_after: float = 0.5
    lambda_sty: float = 1.0
    lambda_cyc: float = 1.0
    lambda_mouth: float = 1.0
    mouth_channels: tuple[int, ...] = (0,)
    seed: int = 777
    log_every: int = 100

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 2 or self.seq_len < 2:
            raise ValueError("steps must be >= 1, batch_size and seq_len >= 2 (correlations need 2 frames)")
        if not 0.0 <= self.decay_after <= 1.0:
            raise ValueError(f"decay_after must be within 0..1, got {self.decay_after}")
        if not self.mouth_channels:
            raise ValueError("mouth_channels must name at least one speech channel")


@dataclass(frozen=True)
class ManipulatorStepLosses:
    """Scalar losses of one step (the generator terms are those of the latent-style G update)."""

    d_latent: float
    d_reference: float
    g_adversarial: float
    g_style: float
    g_cycle: float
    g_mouth_correlation: float


class _Optimisers:
    """One Adam per network, NED's betas, with a shared linear-decay schedule."""

    def __init__(self, model: NedManipulator, config: ManipulatorTrainingConfig) -> None:
        def adam(module: torch.nn.Module, lr: float) -> torch.optim.Adam:
            return torch.optim.Adam(module.parameters(), lr=lr, betas=config.betas)

        self.generator = adam(model.generator, config.lr)
        self.mapping = adam(model.mapping_network, config.mapping_lr)
        self.encoder = adam(model.style_encoder, config.lr)
        self.discriminator = adam(model.discriminator, config.lr)
        self.all = (self.generator, self.mapping, self.encoder, self.discriminator)
        self._base = [group["lr"] for opt in self.all for group in opt.param_groups]
        self._constant_steps = int(config.decay_after * config.steps)
        self._steps = config.steps

    def zero_grad(self) -> None:
        for optimiser in self.all:
            optimiser.zero_grad(set_to_none=True)

    def set_step(self, step: int) -> None:
        decay_span = max(self._steps - self._constant_steps, 1)
        factor = 1.0 - max(step - self._constant_steps, 0) / decay_span
        groups = [group for opt in self.all for group in opt.param_groups]
        for group, base in zip(groups, self._base, strict=True):
            group["lr"] = base * max(factor, 0.0)


@dataclass(frozen=True)
class _Batch:
    x: torch.Tensor  # (B, T, D) source windows
    y_org: torch.Tensor  # (B,) their emotions
    y_trg: torch.Tensor  # (B,) target emotions
    z: torch.Tensor  # (B, latent_dim) latents for F
    x_ref: torch.Tensor  # (B, T, D) windows showing y_trg


def _draw_batch(sampler: WindowSampler, model: NedManipulator, batch_size: int, device: torch.device) -> _Batch:
    x, y_org = sampler.sample(batch_size)
    y_trg = sampler.sample_targets(batch_size)
    return _Batch(
        x=torch.from_numpy(x).to(device),
        y_org=torch.from_numpy(y_org).to(device),
        y_trg=torch.from_numpy(y_trg).to(device),
        z=torch.from_numpy(sampler.sample_latents(batch_size, model.dims.latent_dim)).to(device),
        x_ref=torch.from_numpy(sampler.sample_references(y_trg)).to(device),
    )


def _target_style(model: NedManipulator, batch: _Batch, reference: bool) -> torch.Tensor:
    if reference:
        return model.style_encoder(batch.x_ref)
    return model.mapping_network(batch.z, batch.y_trg)


def _discriminator_step(model: NedManipulator, optimisers: _Optimisers, batch: _Batch, reference: bool) -> float:
    with torch.no_grad():
        fake = model.generator(batch.x, _target_style(model, batch, reference))
    loss = lsgan_loss(model.discriminator(batch.x, batch.y_org), True) + lsgan_loss(
        model.discriminator(fake, batch.y_trg), False
    )
    optimisers.zero_grad()
    loss.backward()
    optimisers.discriminator.step()
    return loss.item()


def _generator_step(
    model: NedManipulator,
    optimisers: _Optimisers,
    batch: _Batch,
    reference: bool,
    config: ManipulatorTrainingConfig,
) -> tuple[float, float, float, float]:
    style = _target_style(model, batch, reference)
    fake = model.generator(batch.x, style)
    adversarial = lsgan_loss(model.discriminator(fake, batch.y_trg), True)
    style_loss = style_reconstruction_loss(model.style_encoder(fake), style)
    cycled = model.generator(fake, model.style_encoder(batch.x))
    cycle = cycle_loss(cycled, batch.x)
    correlation = mouth_correlation(batch.x, fake, config.mouth_channels) + mouth_correlation(
        fake, cycled, config.mouth_channels
    )
    loss = adversarial + config.lambda_sty * style_loss + config.lambda_cyc * cycle - config.lambda_mouth * correlation
    optimisers.zero_grad()
    loss.backward()
    optimisers.generator.step()
    if not reference:  # NED: the latent-style step also trains F and E, the reference one only G
        optimisers.mapping.step()
        optimisers.encoder.step()
    return adversarial.item(), style_loss.item(), cycle.item(), correlation.item() / 2.0


def train_manipulator(
    clips: Sequence[ExpressionClip],
    config: ManipulatorTrainingConfig,
    dims: ManipulatorDims | None = None,
    model: NedManipulator | None = None,
    on_step: Callable[[int, ManipulatorStepLosses], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[NedManipulator, list[ManipulatorStepLosses]]:
    """Train (or fine-tune) the manipulator on labelled clips.

    Args:
        clips: training clips; every one needs at least config.seq_len frames to contribute.
        config: optimisation settings.
        dims: network sizes for a fresh model (input_dim must equal the clips' D); ignored when
            `model` is given (fine-tuning, e.g. from a loaded NED-format checkpoint).
        model: networks to continue training.
        on_step: called after every step with its losses (progress reporting).
        should_stop: polled before every step; True ends training early (cancel).
        device: torch device to train on.

    Returns:
        (the trained networks in eval mode on the CPU, the losses of every step run).

    Raises:
        ValueError: clips whose D does not match the networks, or mouth channels out of range.
    """
    torch.manual_seed(config.seed)
    sampler = WindowSampler(clips, config.seq_len, seed=config.seed)
    model = model if model is not None else NedManipulator(dims or ManipulatorDims(input_dim=sampler.dim))
    if model.dims.input_dim != sampler.dim:
        raise ValueError(f"the clips have {sampler.dim} channels, the networks expect {model.dims.input_dim}")
    if max(config.mouth_channels) >= sampler.dim or min(config.mouth_channels) < 0:
        raise ValueError(f"mouth_channels {config.mouth_channels} out of range for {sampler.dim} channels")
    device = torch.device(device)
    model.to(device).train()
    optimisers = _Optimisers(model, config)
    history: list[ManipulatorStepLosses] = []
    for step in range(config.steps):
        if should_stop is not None and should_stop():
            logger.info("manipulator training stopped at step %d of %d", step, config.steps)
            break
        optimisers.set_step(step)
        batch = _draw_batch(sampler, model, config.batch_size, device)
        d_latent = _discriminator_step(model, optimisers, batch, reference=False)
        d_reference = _discriminator_step(model, optimisers, batch, reference=True)
        g_terms = _generator_step(model, optimisers, batch, False, config)
        _generator_step(model, optimisers, batch, True, config)
        losses = ManipulatorStepLosses(d_latent, d_reference, *g_terms)
        history.append(losses)
        if on_step is not None:
            on_step(step, losses)
        if config.log_every and step % config.log_every == 0:
            logger.info("manipulator step %d: %s", step, losses)
    optimisers.zero_grad()
    return model.cpu().eval(), history


def mean_losses(history: Sequence[ManipulatorStepLosses]) -> ManipulatorStepLosses:
    """Average of a run of step losses (for comparing the start and the end of training)."""
    if not history:
        raise ValueError("no steps to average")
    columns = np.asarray([list(vars(item).values()) for item in history], dtype=np.float64).mean(axis=0)
    return ManipulatorStepLosses(*(float(value) for value in columns))
