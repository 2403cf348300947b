import pytest
import torch

from resnet_core.inside.anatomy import block_anatomy
from resnet_core.inside.feature_maps import feature_maps


@pytest.mark.parametrize("twin", ["residual", "plain"])
def test_each_blocks_parts_add_up_to_its_output(trained_twins, lab, twin):
    model = trained_twins.nets[twin]
    digit = lab.test_images[0]
    parts = block_anatomy(model, digit)
    maps = feature_maps(model, digit[None])
    assert [p.name for p in parts] == list(maps)[1:]
    for part in parts:
        torch.testing.assert_close(part.output, maps[part.name][0])
        added = part.branch + part.shortcut if part.residual else part.branch
        torch.testing.assert_close(part.output, added.clamp(min=0))
        expected_ratio = part.branch.norm() / part.shortcut.norm()
        assert part.ratio == pytest.approx(expected_ratio.item(), rel=1e-4)
        assert part.residual is (twin == "residual")


def test_a_projection_block_shows_the_projected_shortcut(trained_twins, lab):
    parts = {p.name: p for p in block_anatomy(trained_twins.nets["residual"], lab.test_images[1])}
    first, down = parts["layer1.0"], parts["layer2.0"]
    torch.testing.assert_close(first.shortcut, first.input)  # identity shortcut
    assert down.input.shape == (16, 28, 28) and down.shortcut.shape == (32, 14, 14)


def test_more_than_one_input_is_refused(trained_twins, lab):
    with pytest.raises(ValueError, match="one input"):
        block_anatomy(trained_twins.nets["plain"], lab.test_images[:2])
