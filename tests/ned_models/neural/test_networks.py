"""Layouts, sizes and behaviour of the networks (NED's in their official key layout, and ours)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ned_models.neural.networks import (
    CompactGenerator,
    CompactGeneratorConfig,
    ManipulatorGenerator,
    MappingNetwork,
    MultiscalePatchDiscriminator,
    NedGenerator,
    NedInstanceNorm2d,
    NedManipulator,
    SequenceDiscriminator,
    StyleEncoder,
)


def _parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class TestNedInstanceNorm:
    def test_eval_matches_pytorch_training_mode(self) -> None:
        """NED runs its renderer without .eval(): eval here must give PyTorch's training-mode output."""
        x = torch.randn(2, 4, 8, 8) * 3 + 1
        ours = NedInstanceNorm2d(4)
        stock = nn.InstanceNorm2d(4, affine=False, track_running_stats=True).train()
        ours.running_mean.fill_(5.0)  # buffers must not matter in eval
        assert torch.allclose(ours.eval()(x), stock(x), atol=1e-6)

    def test_training_updates_running_stats_like_pytorch(self) -> None:
        x = torch.randn(2, 4, 8, 8) + 2
        ours, stock = NedInstanceNorm2d(4).train(), nn.InstanceNorm2d(4, track_running_stats=True).train()
        ours(x), stock(x)
        assert torch.allclose(ours.running_mean, stock.running_mean)
        assert torch.allclose(ours.running_var, stock.running_var)
        assert not torch.allclose(ours.running_mean, torch.zeros(4))


class TestNedGenerator:
    def test_top_level_modules_and_duplicate_block_keys(self) -> None:
        state = NedGenerator().state_dict()
        tops = {key.split(".")[0] for key in state}
        assert tops == {"model_down_seg", "model_down_img", "model_res_img", "model_up_img", "model_final_img"}
        block = [key for key in state if key.startswith("model_res_img.0.")]
        assert "model_res_img.0.conv_block.1.weight" in block
        assert "model_res_img.0.resnetblock_sequential.1.weight" in block
        first, second = (
            state["model_res_img.0.conv_block.5.weight"],
            state["model_res_img.0.resnetblock_sequential.5.weight"],
        )
        assert first.data_ptr() == second.data_ptr()  # one tensor under two names

    def test_norms_carry_running_stats_and_no_affine(self) -> None:
        state = NedGenerator().state_dict()
        assert {"model_down_seg.2.running_mean", "model_down_seg.2.running_var"} <= set(state)
        assert "model_down_seg.2.num_batches_tracked" in state
        assert "model_down_seg.2.weight" not in state

    def test_layer_shapes_follow_the_facts(self) -> None:
        state = NedGenerator().state_dict()
        assert state["model_down_seg.1.weight"].shape == (64, 27, 7, 7)
        assert state["model_down_img.1.weight"].shape == (64, 6, 7, 7)
        assert state["model_down_seg.10.weight"].shape == (512, 256, 3, 3)
        assert "model_down_seg.17.conv_block.1.weight" in state  # 5 blocks per stream: 13..17
        assert "model_down_seg.18.conv_block.1.weight" not in state
        assert "model_res_img.3.conv_block.1.weight" in state and "model_res_img.4.conv_block.1.weight" not in state
        assert state["model_up_img.6.weight"].shape == (128, 64, 3, 3)  # ConvTranspose: (in, out, k, k)
        assert state["model_final_img.1.weight"].shape == (3, 64, 7, 7)

    def test_parameters_counted_once_despite_aliases(self) -> None:
        model = NedGenerator(ngf=8)
        unique = {id(p) for p in model.parameters()}
        assert len(unique) == len(list(model.parameters()))

    def test_output_is_masked_with_background_minus_one(self) -> None:
        model = NedGenerator(ngf=8).eval()
        mask = torch.zeros(2, 1, 32, 32)
        mask[:, :, 8:24, 8:24] = 1
        with torch.no_grad():
            out = model(torch.rand(2, 27, 32, 32), torch.zeros(2, 6, 32, 32), mask)
        assert out.shape == (2, 3, 32, 32)
        assert torch.all(out[:, :, :8] == -1.0)
        assert out[:, :, 8:24, 8:24].abs().max() < 1.0 and out[:, :, 8:24, 8:24].std() > 0

    def test_split_conditioning_strips_masks_and_keeps_the_current_one(self) -> None:
        frames = torch.arange(30.0).view(1, 30, 1, 1).expand(1, 30, 2, 2)
        conditioning, mask = NedGenerator.split_conditioning(frames)
        assert conditioning[0, :, 0, 0].tolist() == [c for c in range(30) if c % 10 != 9]
        assert mask[0, 0, 0, 0].item() == 29.0
        with pytest.raises(ValueError, match="10-channel"):
            NedGenerator.split_conditioning(torch.zeros(1, 29, 2, 2))


class TestPatchDiscriminator:
    def test_keys_and_shapes(self) -> None:
        state = MultiscalePatchDiscriminator().state_dict()
        assert state["scale0_layer0.0.weight"].shape == (64, 12, 4, 4)
        assert state["scale1_layer3.0.weight"].shape == (512, 256, 4, 4)
        assert state["scale1_layer4.0.weight"].shape == (1, 512, 4, 4)
        assert "scale0_layer2.1.running_mean" in state
        assert {key.split(".")[0] for key in state} == {f"scale{s}_layer{j}" for s in range(2) for j in range(5)}

    def test_full_resolution_goes_through_the_highest_scale(self) -> None:
        model = MultiscalePatchDiscriminator(input_nc=3, ndf=8).eval()
        seen: dict[str, tuple[int, ...]] = {}
        for scale in ("scale0_layer0", "scale1_layer0"):
            getattr(model, scale).register_forward_pre_hook(
                lambda module, args, scale=scale: seen.update({scale: tuple(args[0].shape)})
            )
        features = model(torch.randn(1, 3, 64, 64))
        assert seen == {"scale1_layer0": (1, 3, 64, 64), "scale0_layer0": (1, 3, 32, 32)}
        assert [len(scale) for scale in features] == [5, 5]
        assert features[0][-1].shape[1] == 1 and features[0][-1].shape[2] > features[1][-1].shape[2]


class TestManipulatorNetworks:
    def test_parameter_counts_match_ned(self) -> None:
        model = NedManipulator()
        assert _parameter_count(model.generator) == 12_951_091
        assert _parameter_count(model.mapping_network) == 45_040
        assert _parameter_count(model.style_encoder) == 990_672
        assert _parameter_count(model.discriminator) == 990_087

    def test_key_layouts(self) -> None:
        model = NedManipulator()
        generator = set(model.generator.state_dict())
        assert {"seq1.0.weight", "seq1.2.bias", "seq2.4.weight", "LSTM.weight_hh_l1_reverse"} <= generator
        mapping = set(model.mapping_network.state_dict())
        assert {"shared.4.weight", "unshared.6.2.bias"} <= mapping and "unshared.7.0.weight" not in mapping
        assert model.style_encoder.state_dict()["LSTM.weight_hh_l0"].shape == (4 * 128, 128)
        assert model.discriminator.state_dict()["seq2.4.weight"].shape == (7, 64)

    def test_linear_init_is_kaiming_with_zero_bias(self) -> None:
        layer = ManipulatorGenerator(input_dim=51).seq2[0]
        assert torch.all(layer.bias == 0)
        assert abs(layer.weight.std().item() - (2.0 / 1024) ** 0.5) < 0.002

    def test_generator_repeats_the_style_over_time(self) -> None:
        model = ManipulatorGenerator(input_dim=6, style_dim=3, width=8)
        x, style = torch.randn(2, 10, 6), torch.randn(2, 3)
        out = model(x, style)
        joined = torch.cat([x, style[:, None].expand(-1, 10, -1)], dim=2)
        assert out.shape == (2, 10, 6)
        assert torch.allclose(out, model.per_frame(joined))

    def test_mapping_selects_the_labelled_head(self) -> None:
        model = MappingNetwork(latent_dim=4, style_dim=5, num_domains=7, width=8)
        z = torch.randn(3, 4)
        labels = torch.tensor([0, 6, 2])
        styles = model(z, labels)
        for row, label in enumerate(labels.tolist()):
            expected = model.unshared[label](model.shared(z[row : row + 1]))
            assert torch.allclose(styles[row], expected[0])

    def test_style_encoder_averages_over_time_and_discriminator_picks_label(self) -> None:
        encoder = StyleEncoder(input_dim=6, style_dim=5, width=16)
        x = torch.randn(2, 10, 6)
        assert torch.allclose(encoder(x), encoder.per_frame(x).mean(dim=1))
        discriminator = SequenceDiscriminator(input_dim=6, num_domains=7, width=16)
        logits = discriminator.per_frame(x).mean(dim=1)
        assert torch.allclose(discriminator(x, torch.tensor([3, 5])), logits[[0, 1], [3, 5]])


class TestCompactGenerator:
    def test_untrained_network_reproduces_the_warped_source(self) -> None:
        model = CompactGenerator(CompactGeneratorConfig(ngf=4, n_downsampling=2)).eval()
        source = torch.rand(1, 3, 32, 32) * 2.4 - 1.2  # includes values the clamp must cut
        mask = torch.zeros(1, 1, 32, 32)
        mask[..., 4:28, 4:28] = 1
        with torch.no_grad():
            out = model(torch.rand(1, 30, 32, 32), torch.rand(1, 6, 32, 32), source, mask)
        expected = source.clamp(-1, 1) * mask - (1 - mask)
        assert torch.equal(out, expected)

    def test_trained_head_changes_the_output_and_previous_frames_matter(self) -> None:
        model = CompactGenerator(CompactGeneratorConfig(ngf=4, n_downsampling=2)).eval()
        nn.init.normal_(model.head.weight, std=0.1)
        args = (
            torch.rand(1, 30, 32, 32),
            torch.zeros(1, 6, 32, 32),
            torch.zeros(1, 3, 32, 32),
            torch.ones(1, 1, 32, 32),
        )
        with torch.no_grad():
            first = model(*args)
            changed_previous = model(args[0], torch.rand(1, 6, 32, 32), *args[2:])
        assert first.abs().max() > 0
        assert not torch.allclose(first, changed_previous)

    def test_without_previous_stream(self) -> None:
        model = CompactGenerator(CompactGeneratorConfig(n_previous=0, ngf=4, n_downsampling=1)).eval()
        assert model.previous_encoder is None
        out = model(
            torch.rand(2, 30, 16, 16), torch.zeros(2, 0, 16, 16), torch.zeros(2, 3, 16, 16), torch.ones(2, 1, 16, 16)
        )
        assert out.shape == (2, 3, 16, 16)

    @pytest.mark.parametrize("field", ["ngf", "n_frames", "channels_per_frame"])
    def test_config_rejects_non_positive_sizes(self, field: str) -> None:
        with pytest.raises(ValueError, match=field):
            CompactGeneratorConfig(**{field: 0})

    def test_widths_are_capped(self) -> None:
        assert CompactGeneratorConfig(ngf=32, n_downsampling=3, max_channels=96).widths() == [32, 64, 96, 96]
