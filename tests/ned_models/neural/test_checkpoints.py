"""Official-format checkpoints built with random weights load and reproduce outputs; bad files get clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ned_models.errors import CheckpointError, ModelLoadError
from ned_models.neural.checkpoints import (
    ManipulatorInfo,
    load_compact_generator,
    load_manipulator_checkpoint,
    load_ned_manipulator,
    load_ned_renderer_discriminator,
    load_ned_renderer_generator,
    save_compact_generator,
    save_ned_manipulator,
    save_ned_renderer_discriminator,
    save_ned_renderer_generator,
)
from ned_models.neural.networks import (
    CompactGenerator,
    CompactGeneratorConfig,
    ManipulatorDims,
    MultiscalePatchDiscriminator,
    NedGenerator,
    NedManipulator,
)

TINY_DIMS = ManipulatorDims(input_dim=9, generator_width=16, encoder_width=16, mapping_width=8)


@pytest.fixture(scope="module")
def ned_generator_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[NedGenerator, Path]:
    """A full-size NED generator with random weights and non-trivial running stats, saved as NED does."""
    model = NedGenerator()
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.normal_()
    path = save_ned_renderer_generator(model, tmp_path_factory.mktemp("ned") / "20_net_G.pth")
    return model, path


@pytest.fixture(scope="module")
def manipulator_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[NedManipulator, Path]:
    model = NedManipulator()
    return model, save_ned_manipulator(model, tmp_path_factory.mktemp("ned") / "02_nets_finetuned.pth")


def _ned_inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.rand(1, 27, 32, 32), torch.rand(1, 6, 32, 32) * 2 - 1, torch.ones(1, 1, 32, 32)


class TestNedRendererGenerator:
    def test_file_is_a_bare_state_dict_with_duplicate_keys(self, ned_generator_file) -> None:
        _, path = ned_generator_file
        raw = torch.load(path, weights_only=True)
        assert all(isinstance(value, torch.Tensor) for value in raw.values())
        assert "model_down_seg.13.conv_block.1.weight" in raw
        assert "model_down_seg.13.resnetblock_sequential.1.weight" in raw

    def test_round_trip_gives_identical_outputs(self, ned_generator_file) -> None:
        model, path = ned_generator_file
        loaded = load_ned_renderer_generator(path)
        assert not loaded.training
        inputs = _ned_inputs()
        with torch.no_grad():
            assert torch.equal(model.eval()(*inputs), loaded(*inputs))
        assert torch.equal(
            loaded.state_dict()["model_down_seg.2.running_mean"], model.state_dict()["model_down_seg.2.running_mean"]
        )

    def test_variants_ned_files_may_have(self, ned_generator_file, tmp_path: Path) -> None:
        """DataParallel prefix, one block prefix only, no running stats: all load to the same weights."""
        model, path = ned_generator_file
        state = torch.load(path, weights_only=True)
        variant = {
            f"module.{key}": value
            for key, value in state.items()
            if "resnetblock_sequential" not in key
            and not key.endswith(("running_mean", "running_var", "num_batches_tracked"))
        }
        torch.save(variant, tmp_path / "latest_net_G.pth")
        loaded = load_ned_renderer_generator(tmp_path / "latest_net_G.pth")
        inputs = _ned_inputs()
        with torch.no_grad():
            assert torch.equal(model.eval()(*inputs), loaded(*inputs))

    def test_disagreeing_duplicates_are_rejected(self, ned_generator_file, tmp_path: Path) -> None:
        state = torch.load(ned_generator_file[1], weights_only=True)
        key = "model_res_img.0.resnetblock_sequential.1.weight"
        state[key] = state[key] + 1
        torch.save(state, tmp_path / "bad.pth")
        with pytest.raises(CheckpointError, match=r"bad\.pth.*duplicate ResNet-block tensors .* differ"):
            load_ned_renderer_generator(tmp_path / "bad.pth")

    def test_layout_differences_are_listed(self, ned_generator_file, tmp_path: Path) -> None:
        state = torch.load(ned_generator_file[1], weights_only=True)
        del state["model_up_img.3.weight"]
        state["model_extra.0.weight"] = torch.zeros(1)
        state["model_final_img.1.weight"] = torch.zeros(3, 64, 5, 5)
        torch.save(state, tmp_path / "20_net_G.pth")
        with pytest.raises(CheckpointError) as error:
            load_ned_renderer_generator(tmp_path / "20_net_G.pth")
        message = str(error.value)
        assert str(tmp_path / "20_net_G.pth") in message
        assert "1 missing tensors (model_up_img.3.weight)" in message
        assert "1 unexpected tensors (model_extra.0.weight)" in message
        assert "model_final_img.1.weight (3, 64, 5, 5) in the file, (3, 64, 7, 7) expected" in message

    def test_manipulator_file_is_named_as_such(self, manipulator_file) -> None:
        with pytest.raises(
            CheckpointError, match="this is a NED manipulator checkpoint .*not a NED renderer generator"
        ):
            load_ned_renderer_generator(manipulator_file[1])


class TestNedRendererDiscriminator:
    def test_round_trip_and_generator_file_refused(self, ned_generator_file, tmp_path: Path) -> None:
        model = MultiscalePatchDiscriminator()
        path = save_ned_renderer_discriminator(model, tmp_path / "20_net_Dm.pth")
        loaded = load_ned_renderer_discriminator(path)
        x = torch.randn(1, 12, 72, 72)
        with torch.no_grad():
            assert torch.equal(model.eval()(x)[0][-1], loaded.eval()(x)[0][-1])
        with pytest.raises(CheckpointError, match="this is a NED renderer discriminator"):
            load_ned_renderer_generator(path)
        with pytest.raises(
            CheckpointError, match="this is a NED renderer generator .*not a NED renderer discriminator"
        ):
            load_ned_renderer_discriminator(ned_generator_file[1])


class TestNedManipulator:
    def test_round_trip_gives_identical_outputs(self, manipulator_file) -> None:
        model, path = manipulator_file
        loaded = load_ned_manipulator(path)
        assert loaded.dims == ManipulatorDims()
        x, style = torch.randn(2, 10, 51), torch.randn(2, 16)
        with torch.no_grad():
            assert torch.equal(model.generator(x, style), loaded.generator(x, style))
            assert torch.equal(model.style_encoder(x), loaded.style_encoder(x))
            labels = torch.tensor([1, 6])
            assert torch.equal(
                model.mapping_network(style[:, :4], labels), loaded.mapping_network(style[:, :4], labels)
            )
            assert torch.equal(model.discriminator(x, labels), loaded.discriminator(x, labels))

    def test_file_has_exactly_the_four_official_keys(self, manipulator_file) -> None:
        raw = torch.load(manipulator_file[1], weights_only=True)
        assert set(raw) == {"generator", "mapping_network", "style_encoder", "discriminator"}
        assert "seq1.0.weight" in raw["generator"] and "shared.0.weight" in raw["mapping_network"]

    def test_official_file_gets_ned_channel_info(self, manipulator_file) -> None:
        info = load_manipulator_checkpoint(manipulator_file[1]).info
        assert info.channel_names[0] == "jaw_open" and len(info.channel_names) == 51
        assert info.mouth_channels == (0,)

    def test_our_expression_space_sizes_and_info_round_trip(self, tmp_path: Path) -> None:
        model = NedManipulator(TINY_DIMS)
        info = ManipulatorInfo(channel_names=tuple(f"au{i}" for i in range(9)), mouth_channels=(0, 3), note="synthetic")
        checkpoint = load_manipulator_checkpoint(save_ned_manipulator(model, tmp_path / "nets.pth", info))
        assert checkpoint.model.dims == TINY_DIMS
        assert checkpoint.info == info

    def test_wrong_top_level_keys_are_listed(self, tmp_path: Path) -> None:
        state = NedManipulator(TINY_DIMS)
        torch.save({"generator": state.generator.state_dict(), "netG": {}}, tmp_path / "odd.pth")
        with pytest.raises(CheckpointError) as error:
            load_ned_manipulator(tmp_path / "odd.pth")
        message = str(error.value)
        assert "odd.pth" in message and "top-level keys are [generator, netG]" in message
        assert "missing: mapping_network, style_encoder, discriminator" in message and "unexpected: netG" in message

    def test_renderer_file_is_named_as_such(self, ned_generator_file) -> None:
        with pytest.raises(CheckpointError, match=r"20_net_G\.pth: this is a NED renderer generator"):
            load_ned_manipulator(ned_generator_file[1])

    def test_optimiser_file_is_named_as_such(self, tmp_path: Path) -> None:
        model = NedManipulator(TINY_DIMS)
        optimisers = {part: torch.optim.Adam(getattr(model, part).parameters()).state_dict() for part in
                      ("generator", "mapping_network", "style_encoder", "discriminator")}  # fmt: skip
        torch.save(optimisers, tmp_path / "02_optims_finetuned.pth")
        with pytest.raises(CheckpointError, match="optimiser file"):
            load_ned_manipulator(tmp_path / "02_optims_finetuned.pth")

    def test_part_with_wrong_tensors_is_listed(self, tmp_path: Path) -> None:
        model = NedManipulator(TINY_DIMS)
        payload = {part: getattr(model, part).state_dict() for part in
                   ("generator", "mapping_network", "style_encoder", "discriminator")}  # fmt: skip
        del payload["style_encoder"]["seq2.4.bias"]
        torch.save(payload, tmp_path / "nets.pth")
        with pytest.raises(CheckpointError, match=r"'style_encoder'.*1 missing tensors \(seq2\.4\.bias\)"):
            load_ned_manipulator(tmp_path / "nets.pth")


class TestBrokenFiles:
    def test_truncated_file(self, manipulator_file, tmp_path: Path) -> None:
        data = manipulator_file[1].read_bytes()
        (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
        with pytest.raises(CheckpointError, match=r"cut\.pth: truncated or corrupt zip archive"):
            load_ned_manipulator(tmp_path / "cut.pth")

    def test_truncated_legacy_pickle(self, tmp_path: Path) -> None:
        torch.save({"a": torch.zeros(100)}, tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
        data = (tmp_path / "legacy.pth").read_bytes()
        (tmp_path / "legacy.pth").write_bytes(data[: len(data) - 50])
        with pytest.raises(CheckpointError, match=r"legacy\.pth: truncated or corrupt checkpoint"):
            load_ned_renderer_generator(tmp_path / "legacy.pth")

    def test_text_file(self, tmp_path: Path) -> None:
        (tmp_path / "notes.pth").write_text("these are not weights\n")
        with pytest.raises(CheckpointError, match=r"notes\.pth: not a PyTorch checkpoint"):
            load_ned_renderer_generator(tmp_path / "notes.pth")

    def test_missing_empty_and_directory(self, tmp_path: Path) -> None:
        with pytest.raises(CheckpointError, match="no such file"):
            load_ned_manipulator(tmp_path / "absent.pth")
        (tmp_path / "empty.pth").write_bytes(b"")
        with pytest.raises(CheckpointError, match="empty file"):
            load_ned_manipulator(tmp_path / "empty.pth")
        with pytest.raises(CheckpointError, match="not a regular file"):
            load_ned_manipulator(tmp_path)

    def test_arbitrary_python_objects_are_never_unpickled(self, tmp_path: Path) -> None:
        torch.save({"generator": ModelLoadError("x")}, tmp_path / "objects.pth")
        with pytest.raises(CheckpointError, match="refusing to unpickle"):
            load_ned_manipulator(tmp_path / "objects.pth")

    def test_not_a_dict(self, tmp_path: Path) -> None:
        torch.save([torch.zeros(1)], tmp_path / "list.pth")
        with pytest.raises(CheckpointError, match="holds a list, not a NED renderer generator"):
            load_ned_renderer_generator(tmp_path / "list.pth")

    def test_checkpoint_error_is_a_model_load_error(self) -> None:
        assert issubclass(CheckpointError, ModelLoadError)


class TestCompactGenerator:
    def test_round_trip_rebuilds_the_architecture(self, tmp_path: Path) -> None:
        config = CompactGeneratorConfig(ngf=6, n_downsampling=2, n_blocks=1, n_previous=1)
        model = CompactGenerator(config)
        torch.nn.init.normal_(model.head.weight, std=0.1)
        loaded = load_compact_generator(save_compact_generator(model, tmp_path / "renderer.pt"))
        assert loaded.config == config
        args = (torch.rand(1, 30, 16, 16), torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), torch.ones(1, 1, 16, 16))
        with torch.no_grad():
            assert torch.equal(model.eval()(*args), loaded(*args))

    def test_ned_file_and_bad_versions_are_refused(self, ned_generator_file, tmp_path: Path) -> None:
        with pytest.raises(CheckpointError, match="this is a NED renderer generator .*not an Emotion Director"):
            load_compact_generator(ned_generator_file[1])
        path = save_compact_generator(
            CompactGenerator(CompactGeneratorConfig(ngf=4, n_downsampling=1)), tmp_path / "r.pt"
        )
        payload = torch.load(path, weights_only=True)
        torch.save({**payload, "version": 99}, tmp_path / "future.pt")
        with pytest.raises(CheckpointError, match="version 99"):
            load_compact_generator(tmp_path / "future.pt")
        torch.save({**payload, "config": {"ngf": -1}}, tmp_path / "badconfig.pt")
        with pytest.raises(CheckpointError, match="invalid architecture config"):
            load_compact_generator(tmp_path / "badconfig.pt")

    def test_writes_are_atomic(self, tmp_path: Path) -> None:
        path = save_compact_generator(
            CompactGenerator(CompactGeneratorConfig(ngf=4, n_downsampling=1)), tmp_path / "r.pt"
        )
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind
