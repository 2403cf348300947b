"""The Train page's settings form: its widgets, their options and defaults, and the same settings taken
from a past run.

Each widget has a key and no default of its own: the defaults are put in session state first
(ui.widget_state), so that "Repeat this run" (Runs page) can put a past run's settings there instead.
"""

from __future__ import annotations

import streamlit as st
import torch

from resnet_core.data.datasets import DATASETS, TRAINING_SET_SIZE
from resnet_core.networks.resnet import ARCHITECTURES, STEMS
from resnet_core.training.config import SCHEDULERS, TrainConfig, recipe
from resnet_core.training.precision import PRECISIONS
from resnet_core.training.progress import format_duration
from ui.resources import estimated_run_seconds
from ui.training.lengths import CUSTOM, RUN_LENGTHS, RunLength, run_length_label

DEVICES = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
BATCH_SIZES = [32, 64, 128, 256, 512]
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 6e-3, 1e-2]
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 1e-3]
# The stem box's first choice: a name, not None, which a select box would show as "Choose an option".
OWN_STEM = "own"
DIGIT_COUNTS = [1_000, 2_000, 5_000, 10_000, 20_000, 55_000]
MOST_EPOCHS = 50

# The page opens on the sprint recipe at the Quick length: a residual net past 99% while the class watches.
_SPRINT = recipe("sprint")
DEFAULTS = {
    "train:arch": _SPRINT.arch,
    "train:stem": _SPRINT.stem,
    "train:dataset": _SPRINT.dataset,
    "train:batch_size": _SPRINT.batch_size,
    "train:lr": _SPRINT.lr,
    "train:weight_decay": _SPRINT.weight_decay,
    "train:scheduler": _SPRINT.scheduler,
    "train:device": "auto",
    "train:precision": _SPRINT.precision,
    "train:augment": _SPRINT.augment,
    "train:zero_init": _SPRINT.zero_init_residual,
    "train:residual": _SPRINT.residual,
    "train:length": "Quick",
    "train:digits": 5_000,
    "train:epochs": 2,
}


def _nearest(options: list[float], value: float) -> float:
    return min(options, key=lambda option: abs(option - value))


def settings_of(config: TrainConfig) -> dict:
    """The widget values that start `config` again: options the page offers, the nearest where it has not
    the exact one (a command-line run may have used any learning rate). Its length becomes Custom."""
    digits = config.train_subset or DIGIT_COUNTS[-1]
    return {
        "train:arch": config.arch if config.arch in ARCHITECTURES else DEFAULTS["train:arch"],
        "train:stem": config.stem if config.stem in STEMS else OWN_STEM,
        "train:dataset": config.dataset,
        "train:batch_size": _nearest(BATCH_SIZES, config.batch_size),
        "train:lr": _nearest(LEARNING_RATES, config.lr),
        "train:weight_decay": _nearest(WEIGHT_DECAYS, config.weight_decay),
        "train:scheduler": config.scheduler,
        "train:device": config.device if config.device in DEVICES else "auto",
        "train:precision": config.precision,
        "train:augment": config.augment,
        "train:zero_init": config.zero_init_residual,
        "train:residual": config.residual,
        "train:length": CUSTOM,
        "train:digits": _nearest(DIGIT_COUNTS, digits),
        "train:epochs": max(1, min(MOST_EPOCHS, config.epochs)),
    }


def settings_form(busy: bool) -> tuple[TrainConfig, bool]:
    """Draw the settings; (the run they describe, whether Start was pressed). `busy`: Start is off."""
    # How long and Start come first (filled in below, once the settings they depend on are read):
    # on a phone the settings are a long column, and most students keep their defaults.
    length_and_start = st.container()
    st.markdown("**Network, data and learning**")
    c1, c2, c3, c4 = st.columns(4)
    arch = c1.selectbox("Network", list(ARCHITECTURES), key="train:arch")
    stem = c2.selectbox(
        "Stem",
        [OWN_STEM, *STEMS],
        key="train:stem",
        format_func=lambda s: "the network's own" if s == OWN_STEM else STEMS[s].description,
        help="The first layer, before the residual blocks. imagenet shrinks a digit to 7×7; medium keeps "
        "14×14 and small 28×28: nicer maps to look at, several times slower to train "
        "(the Architecture page shows each stem's multiply-adds). The network's own: imagenet for "
        "ResNet-18 to -152, small for the depth family ResNet-8 to -110.",
    )
    dataset = c3.selectbox("Dataset", list(DATASETS), format_func=lambda d: DATASETS[d].title, key="train:dataset")
    residual = c4.toggle(
        "Shortcuts",
        key="train:residual",
        help="Off trains the plain twin: the same layers without the skip connections, as the Residual Lab "
        "compares them. Train both and put them side by side on the Runs page.",
    )
    c1, c2, c3, c4 = st.columns(4)
    batch_size = c1.selectbox("Batch size", BATCH_SIZES, key="train:batch_size", help="digits per training step")
    lr = c2.select_slider(
        "Learning rate",
        LEARNING_RATES,
        key="train:lr",
        format_func=lambda v: f"{v:g}",
        help="How big a step the weights take after each batch: too small learns slowly, too large jumps about.",
    )
    weight_decay = c3.select_slider(
        "Weight decay",
        WEIGHT_DECAYS,
        key="train:weight_decay",
        format_func=lambda v: f"{v:g}",
        help="Pulls every weight a little toward zero at each step, so the network cannot lean on a few huge ones.",
    )
    scheduler = c4.selectbox(
        "Schedule",
        SCHEDULERS,
        key="train:scheduler",
        help="How the learning rate changes during the run. step: 10 times smaller every 7 epochs (the classic "
        "recipe); onecycle: rises, then falls to almost zero, and the network is taught to be a little less "
        "than 100% sure of each answer (the fast recipe); constant: never changes.",
    )
    c1, c2, c3, c4 = st.columns(4)
    device = c1.selectbox("Device", DEVICES, key="train:device", help="auto picks a GPU when there is one")
    precision = c2.selectbox(
        "Arithmetic",
        PRECISIONS,
        key="train:precision",
        help="fp32: ordinary 32-bit numbers. bf16: 16-bit numbers, faster on GPUs and on some CPUs, a little "
        "less exact. auto: bf16 on a GPU, fp32 on a CPU.",
    )
    augment = c3.toggle("Augmentation", key="train:augment", help="random rotation ±10° and shift ±10%")
    zero_init = c4.toggle(
        "Blocks start as identity",
        key="train:zero_init",
        help="Each block starts by passing its input on unchanged (F(x) = 0, so out = x) and learns its "
        "correction from there. In our measured runs it helped ResNet-50, not ResNet-18 or -34.",
    )
    settings = TrainConfig(
        arch=arch,
        residual=residual,
        stem=None if stem == OWN_STEM else stem,
        dataset=dataset,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        scheduler=scheduler,
        augment=augment,
        zero_init_residual=zero_init and residual,  # a block without a shortcut cannot start as the identity
        device=device,
        precision=precision,
        label_smoothing=0.1 if scheduler == "onecycle" else 0.0,
    )
    with length_and_start:
        config = _run_length(settings)
        start = st.button("Start training", type="primary", disabled=busy, icon=":material/play_arrow:")
    return config, start


def _run_length(settings: TrainConfig) -> TrainConfig:
    """The run length widgets; `settings` at the chosen length."""
    length = st.radio(
        "How long",
        [*RUN_LENGTHS, CUSTOM],
        format_func=lambda name: run_length_label(name, settings, estimated_run_seconds),
        horizontal=True,
        key="train:length",
        help='Times are estimated from this network\'s speed, measured on this machine. "All" is the '
        f"{TRAINING_SET_SIZE:,} training digits less the {RUN_LENGTHS['Quick'].validation_digits:,} held out to "
        "draw the validation curve (the Residual Lab's twins draw no such curve and train on all of them).",
    )
    if all(estimated_run_seconds(preset.apply(settings)) is None for preset in RUN_LENGTHS.values()):
        st.caption(
            "No times yet: this machine is training (timing a network now would slow that run down), or these "
            "settings do not fit in its memory."
        )
    if length != CUSTOM:
        return RUN_LENGTHS[length].apply(settings)
    c1, c2 = st.columns(2)
    digits = c1.select_slider("Training digits", DIGIT_COUNTS, key="train:digits")
    epochs = int(c2.number_input("Epochs (passes over the digits)", 1, MOST_EPOCHS, key="train:epochs"))
    config = RunLength(digits, epochs).apply(settings)
    seconds = estimated_run_seconds(config)
    if seconds is not None:
        st.caption(f"About {format_duration(seconds)} on this machine.")
    return config
