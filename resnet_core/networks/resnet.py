"""The ResNet body, its walk over stem and blocks, the standard depths and their registry.

The layout and state-dict names follow torchvision's resnet.py so weights move
between the two; the constructor arguments (in_chans, stem, residual) adapt the
net to 1-channel 28x28 digits and to teaching comparisons. Whoever needs the net
stage by stage asks it for its walk (forward_features) and its head (forward_head),
as timm's models offer them.
"""

from __future__ import annotations

import copy
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import NamedTuple

import torch
from torch import Tensor, nn

from resnet_core.networks.blocks import BasicBlock, Block, Bottleneck, conv1x1, conv3x3


class Stem(NamedTuple):
    layers: str  # what the stem is
    side: int  # the side of its maps for a 28x28 digit (networks.layer_tables counts the cost)
    title: str  # its name for people who have not met the others

    @property
    def size(self) -> str:
        """What it does to a 28x28 digit before the first block: "28 → 7"."""
        return f"28 → {self.side}"

    @property
    def description(self) -> str:
        """E.g. "ImageNet's: 7×7 stride 2 + max-pool, 28 → 7"."""
        return f"{self.title}: {self.layers}, {self.size}"


STEMS = {
    "imagenet": Stem("7×7 stride 2 + max-pool", 7, "ImageNet's"),
    "medium": Stem("3×3 stride 1 + max-pool", 14, "Medium"),
    "small": Stem("3×3 stride 1, no pool", 28, "Small"),
}
# The four stages of blocks, in forward order, as torchvision names them.
STAGES = ("layer1", "layer2", "layer3", "layer4")
STEM = "stem"  # the walk's name for the stem's output, the map before the first block


def check_stem(stem: str) -> None:
    """ValueError, naming the choices, for a stem that is not one of STEMS."""
    if stem not in STEMS:
        raise ValueError(f"Unknown stem {stem!r}: choose one of {', '.join(STEMS)}.")


def check_zero_init(residual: bool, zero_init_residual: bool) -> None:
    # Without a shortcut a zeroed block passes nothing on: the net would output a constant.
    if zero_init_residual and not residual:
        raise ValueError("zero_init_residual needs the skip connections: drop it or keep residual=True.")


class ResNet(nn.Module):
    """A ResNet for small images: a stem, then one stage of blocks per entry of `layers`.

    The five ImageNet-style depths (resnet18..152) have four stages 64/128/256/512 wide;
    the depth family of He et al. 2016 §4.2 (resnet8..110) has three, 16/32/64 wide.
    stem="imagenet": 7x7/2 conv + 3x3/2 max-pool, spatial 28 -> 14 -> 7 -> 7 -> 4 -> 2 -> 1.
    stem="medium": 3x3/1 conv + 3x3/2 max-pool, spatial 28 -> 28 -> 14 -> 14 -> 7 -> 4 -> 2 (more multiply-adds: networks.layer_tables counts them).
    stem="small": 3x3/1 conv, no pool, spatial 28 -> 28 -> 14 -> 7 -> 4 (feature maps worth a look).
    residual=False removes every skip connection: the paper's "plain" network.
    Input (N, in_chans, H, W) -> logits (N, num_classes).
    """

    def __init__(
        self,
        block: Block,
        layers: list[int],
        num_classes: int = 10,
        in_chans: int = 1,
        stem: str = "imagenet",
        residual: bool = True,
        zero_init_residual: bool = False,
        arch: str = "resnet",
        widths: tuple[int, ...] = (64, 128, 256, 512),
    ) -> None:
        super().__init__()
        check_stem(stem)
        if len(layers) != len(widths) or not 1 <= len(layers) <= len(STAGES) or any(n < 1 for n in layers):
            raise ValueError(f"layers must be {len(widths)} positive block counts (one per stage), got {layers}.")
        check_zero_init(residual, zero_init_residual)
        self.arch = arch  # the registry name a checkpoint stores, e.g. "resnet18"
        self.model_kwargs = dict(num_classes=num_classes, in_chans=in_chans, stem=stem, residual=residual)
        self.stages = STAGES[: len(layers)]  # the stage names this net has, in forward order
        self.inplanes = widths[0]
        self.residual = residual
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_chans, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = conv3x3(in_chans, widths[0])
        self.maxpool: nn.Module = nn.Identity() if stem == "small" else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        for i, (stage, planes, blocks) in enumerate(zip(self.stages, widths, layers)):
            self.add_module(stage, self._make_layer(block, planes, blocks, stride=1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def blocks(self) -> list[tuple[str, nn.Module]]:
        """Every residual block in forward order, named as in the state dict: [("layer1.0", block), ...]."""
        return [(f"{stage}.{i}", block) for stage in self.stages for i, block in enumerate(self.get_submodule(stage))]

    def _make_layer(self, block: Block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        # A plain net has no shortcut at all, so it needs no projection either.
        if self.residual and (stride != 1 or self.inplanes != planes * block.expansion):
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.residual)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, residual=self.residual) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _init_weights(self, zero_init_residual: bool) -> None:
        # He init keeps activation variance steady through ReLUs (He et al. 2015);
        # fan_out as torchvision does. BN starts as the identity map.
        if next(self.parameters()).is_meta:
            # A weightless skeleton for a checkpoint's weights: nothing to fill, and filling meta tensors
            # goes through torch's reference ops, whose first use imports its compiler (about 1.5 s).
            return
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        # Zeroing each block's last BN makes every block start as the identity,
        # which helps large batches (Goyal et al. 2017).
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def forward_features(self, x: Tensor, stages: bool = False) -> Iterator[tuple[str, Tensor]]:
        """The walk: for (N, in_chans, H, W) input, yield ("stem", map), then ("layer1.0", map), ... per block.

        The one stage-by-stage pass of the net: forward(), feature maps, Grad-CAM, embeddings and
        fine-tuning all take their maps from it. Each map is (N, C, H', W'), e.g. (N, 64, 7, 7) after
        ResNet-18's imagenet stem. Nothing later writes into a map, so it can be kept as it is, and
        the blocks after the point where a caller stops are not run.

        stages=True yields one map per stage instead ("layer1", ...: its last block's map), each stage
        run as the module it is, so that hooks on a stage fire (torchinfo's layer tables, Captum's
        LayerGradCam on model.layer4); the block by block walk calls the blocks themselves.
        """
        h = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        yield STEM, h
        parts = [(stage, self.get_submodule(stage)) for stage in self.stages] if stages else self.blocks()
        for name, part in parts:
            h = part(h)
            yield name, h

    def final_map(self, x: Tensor) -> Tensor:
        """The walk run to its end: the last stage's map (N, C, H', W'), what forward_head takes."""
        # A deque of one keeps only the latest (name, map): each earlier map is freed as the walk goes on.
        return deque(self.forward_features(x, stages=True), maxlen=1).pop()[1]

    def forward_head(self, h: Tensor, pre_logits: bool = False) -> Tensor:
        """The last block's map (N, C, H', W') -> logits (N, num_classes); pre_logits: the pooled (N, C)
        penultimate features fc reads."""
        pooled = torch.flatten(self.avgpool(h), 1)
        return pooled if pre_logits else self.fc(pooled)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.final_map(x))

    def get_feature_maps(self, x: Tensor) -> OrderedDict[str, Tensor]:
        """Every map of the walk for (N, C, H, W) input: name -> (N, C', H', W') on the CPU, "stem" first.

        Run as for a prediction: on an eval-mode copy when the model is training. To take only some
        maps, and stop the walk once they are taken, use resnet_core.inside.feature_maps.feature_maps.
        """
        net = for_inference(self)
        with torch.inference_mode():
            walk = net.forward_features(x.to(next(net.parameters()).device))
            return OrderedDict((name, h.cpu()) for name, h in walk)


class Architecture(NamedTuple):
    builder: Callable[..., ResNet]
    description: str
    stem: str = "imagenet"  # the stem it is built with when none is named
    family: str = "imagenet"  # "imagenet": four stages 64..512 wide; "depth": three stages 16/32/64


def resnet18(**kwargs) -> ResNet:
    """ResNet-18: basic blocks [2, 2, 2, 2]; kwargs go to ResNet (stem, residual, num_classes, ...)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], arch="resnet18", **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34: basic blocks [3, 4, 6, 3]."""
    return ResNet(BasicBlock, [3, 4, 6, 3], arch="resnet34", **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50: bottleneck blocks [3, 4, 6, 3]."""
    return ResNet(Bottleneck, [3, 4, 6, 3], arch="resnet50", **kwargs)


def resnet101(**kwargs) -> ResNet:
    """ResNet-101: bottleneck blocks [3, 4, 23, 3]."""
    return ResNet(Bottleneck, [3, 4, 23, 3], arch="resnet101", **kwargs)


def resnet152(**kwargs) -> ResNet:
    """ResNet-152: bottleneck blocks [3, 8, 36, 3]."""
    return ResNet(Bottleneck, [3, 8, 36, 3], arch="resnet152", **kwargs)


def _depth_family(n: int, **kwargs) -> ResNet:
    # He et al. 2016 §4.2: a 3x3 stem, then n basic blocks at each of 16/32/64 channels
    # (28, 14 and 7 pixels for a digit): 6n convs + the stem + fc = 6n+2 layers. The paper
    # pads its shortcuts with zeros; these project (1x1 conv + BN) where the shape changes.
    kwargs["stem"] = kwargs.get("stem") or "small"
    return ResNet(BasicBlock, [n, n, n], arch=f"resnet{6 * n + 2}", widths=(16, 32, 64), **kwargs)


def resnet8(**kwargs) -> ResNet:
    """ResNet-8: 1 basic block per stage at 16/32/64 channels; residual=False gives its plain twin."""
    return _depth_family(1, **kwargs)


def resnet20(**kwargs) -> ResNet:
    """ResNet-20: 3 basic blocks per stage at 16/32/64 channels."""
    return _depth_family(3, **kwargs)


def resnet32(**kwargs) -> ResNet:
    """ResNet-32: 5 basic blocks per stage at 16/32/64 channels."""
    return _depth_family(5, **kwargs)


def resnet44(**kwargs) -> ResNet:
    """ResNet-44: 7 basic blocks per stage at 16/32/64 channels."""
    return _depth_family(7, **kwargs)


def resnet56(**kwargs) -> ResNet:
    """ResNet-56: 9 basic blocks per stage at 16/32/64 channels."""
    return _depth_family(9, **kwargs)


def resnet110(**kwargs) -> ResNet:
    """ResNet-110: 18 basic blocks per stage at 16/32/64 channels."""
    return _depth_family(18, **kwargs)


ARCHITECTURES: dict[str, Architecture] = {
    "resnet18": Architecture(resnet18, "8 basic blocks [2,2,2,2]: the classic small ResNet"),
    "resnet34": Architecture(resnet34, "16 basic blocks [3,4,6,3]: deeper, same block"),
    "resnet50": Architecture(resnet50, "16 bottleneck blocks [3,4,6,3]: 1x1-3x3-1x1, 4x wider output"),
    "resnet101": Architecture(resnet101, "33 bottleneck blocks [3,4,23,3]: a long third stage"),
    "resnet152": Architecture(resnet152, "50 bottleneck blocks [3,8,36,3]: the deepest of the paper"),
    **{
        f"resnet{6 * n + 2}": Architecture(
            builder,
            f"{3 * n} basic blocks [{n},{n},{n}] at 16/32/64 channels: the paper's depth study",
            stem="small",
            family="depth",
        )
        for n, builder in ((1, resnet8), (3, resnet20), (5, resnet32), (7, resnet44), (9, resnet56), (18, resnet110))
    },
}
# The depth study's nets, shallow to deep, for the Residual Lab's twins and sweeps.
DEPTH_FAMILY = tuple(name for name, entry in ARCHITECTURES.items() if entry.family == "depth")


def build_model(arch: str, stem: str | None = None, **kwargs) -> ResNet:
    """Build a registered architecture by name, e.g. build_model("resnet18", stem="small").

    stem=None builds the architecture's own stem (imagenet for resnet18..152, small for resnet8..110).
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {arch!r}: choose one of {', '.join(ARCHITECTURES)}.")
    entry = ARCHITECTURES[arch]
    return entry.builder(stem=stem or entry.stem, **kwargs)


def freeze(model: nn.Module, up_to: str = "layer2") -> list[str]:
    """Stop gradients for the stem and every stage up to and including `up_to`.

    Returns the names of the frozen parameters. Frozen BatchNorm layers still
    update running statistics in train mode; call .eval() on them to fix those too.
    """
    order = ["stem", *getattr(model, "stages", STAGES), "fc"]
    if up_to not in order:
        raise ValueError(f"up_to must be one of {', '.join(order)}, got {up_to!r}.")
    frozen_parts = set(order[: order.index(up_to) + 1])
    frozen = []
    for name, param in model.named_parameters():
        top = name.split(".", 1)[0]
        part = "stem" if top in ("conv1", "bn1") else top
        if part in frozen_parts:
            param.requires_grad_(False)
            frozen.append(name)
    return frozen


def for_inference(model: nn.Module) -> nn.Module:
    """The model itself when in eval mode, else an eval-mode copy.

    Switching a model's mode would change it under any other thread using it (a training
    run, another app session), so inference never calls .eval() on the model it is given.
    """
    return copy.deepcopy(model).eval() if model.training else model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
