"""Runs: every trained model this server knows of, side by side; their curves, their costs, and a run
to start again."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from resnet_core.data.datasets import DATASETS
from resnet_core.files.run_records import RunRecord
from resnet_core.training.progress import format_duration
from ui import charts, keys
from ui.models.run_table import all_runs, mult_adds
from ui.teacher_note import teacher_note
from ui.training.form import settings_of


def _training_time(run: RunRecord) -> str:
    if run.training_seconds:
        return format_duration(run.training_seconds)
    # The lab trains a pair step by step together: only the pair's time exists.
    return f"{format_duration(run.pair_seconds)} with its twin" if run.pair_seconds else ""


def _uneven_pair(runs: list[RunRecord]) -> str:
    """A warning against reading load as the shortcuts' cost: the first pair of runs that differ only in their
    shortcuts and whose recorded times differ by more than half."""
    timed = [r for r in runs if r.training_seconds and r.config is not None]
    for residual in (r for r in timed if r.residual):
        for plain in (r for r in timed if not r.residual):
            if replace(plain.config, residual=True) != residual.config:
                continue
            slow, fast = sorted((residual, plain), key=lambda r: r.training_seconds, reverse=True)
            ratio = slow.training_seconds / fast.training_seconds
            if ratio > 1.5:
                extra = 100 * (residual.parameters - plain.parameters) / plain.parameters
                return (
                    f" {slow.name} took {ratio:.1f}× as long as {fast.name}, though the two have the same layers "
                    f"and the one with shortcuts {extra:.0f}% more parameters: most of that gap is the machine's "
                    "load at the time, not the shortcuts."
                )
    return ""


st.title("Runs")
teacher_note(
    "Every network this server knows, in one table: the starters, the class's own runs, and the Residual "
    "Lab's twins, each with how it was trained and what it scored.",
    "pairs that differ only in their shortcuts (the lab's twins, or a run with **Shortcuts** off): which "
    "learned more, and which took longer.",
)
st.caption(
    "The starter models, the checkpoints saved in the checkpoints folder, the runs finished on this server "
    "(the four newest) and the Residual Lab's twins. Choose runs below the table to compare them; choose one "
    "to train it again."
)
runs = all_runs()
table = pd.DataFrame(
    {
        "name": [r.name for r in runs],
        "from": [r.source for r in runs],
        "network": [f"{r.arch}, {r.stem} stem" + ("" if r.residual else ", plain") for r in runs],
        "dataset": [DATASETS[r.dataset].title if r.dataset in DATASETS else r.dataset for r in runs],
        "recipe": [r.recipe for r in runs],
        "epochs": [r.epochs for r in runs],
        "test accuracy (%)": [r.test_accuracy for r in runs],
        "test digits": [r.test_digits for r in runs],
        "parameters": [r.parameters for r in runs],
        "multiply-adds": [mult_adds(r) for r in runs],
        "training time": [_training_time(r) for r in runs],
        "device": [r.device for r in runs],
        "date": [r.date.strftime("%Y-%m-%d %H:%M") if r.date else "" for r in runs],
    }
)
# What a class compares, as a plain table at body size (an interactive grid draws its text at 14 px, too
# small for a projected room's back row); every column in the grid below it.
st.table(
    pd.DataFrame(
        {
            "name": table["name"],
            "network": table["network"],
            "test accuracy (%)": [f"{a:.2f}" if a is not None else "" for a in table["test accuracy (%)"]],
            "test digits": [f"{int(d):,}" if pd.notna(d) else "" for d in table["test digits"]],
            "training time": table["training time"],
        }
    ).set_index("name")
)
with st.expander("Every column: recipe, epochs, size, cost, device, date"):
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "parameters": st.column_config.NumberColumn(format="localized"),
            "multiply-adds": st.column_config.NumberColumn(format="localized"),
            "test digits": st.column_config.NumberColumn(format="localized"),
            "test accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
        },
    )
chosen = st.multiselect(
    "Compare",
    range(len(runs)),
    format_func=lambda i: runs[i].name,
    placeholder="Choose runs (the first four are shown until you do)",
    help="Choose exactly one to train it again.",
)
shown = chosen or list(range(min(len(runs), 4)))

with_history = {runs[i].name: runs[i].history for i in shown if runs[i].history}
st.subheader("Curves" + (" of the selected runs" if chosen else f" of the first {len(shown)}"))
if len(with_history) < len(shown):
    st.caption(
        f"{len(shown) - len(with_history)} of these recorded no per-epoch curves (the Residual Lab's twins record "
        "theirs by step, on the lab's page)."
    )
if with_history:
    st.plotly_chart(charts.run_curves(with_history), config=charts.NO_TOOLBAR)
else:
    st.info("None of these recorded their training curves.")

st.subheader("What the accuracy cost")
# Accuracies compare only on the same digits: all 10,000 test digits (the lab's twins count 1,000).
scored = [i for i, r in enumerate(runs) if r.test_accuracy is not None and r.test_digits == 10_000]
left_out = sum(r.test_accuracy is not None for r in runs) - len(scored)


def cost_chart(column, cost, title: str, key: str) -> None:
    """Test accuracy against one cost of each scored run that recorded it."""
    shown = [i for i in scored if cost(runs[i])]
    column.plotly_chart(
        charts.accuracy_against(
            [cost(runs[i]) for i in shown],
            [runs[i].test_accuracy for i in shown],
            [runs[i].name for i in shown],
            [i in chosen for i in shown],
            title,
        ),
        config=charts.NO_TOOLBAR,
        key=key,
    )


left, right = st.columns(2)
cost_chart(left, lambda run: run.parameters, "parameters", "accuracy-parameters")
cost_chart(right, lambda run: run.training_seconds, "training time (s)", "accuracy-time")
st.caption(
    "Training times are as recorded, on whatever machine and device each run used, with whatever else it was "
    "running meanwhile."
    + _uneven_pair(runs)
    + (
        f" Test accuracies on all 10,000 test digits only: {left_out} tested on fewer "
        + ("is" if left_out == 1 else "are")
        + " left out."
        if left_out
        else ""
    )
)

if len(chosen) == 1 and runs[chosen[0]].config is not None:
    run = runs[chosen[0]]
    if st.button(f"Train {run.name} again on the Train page", icon=":material/replay:"):
        st.session_state[keys.TRAIN_PREFILL] = settings_of(run.config)
        st.switch_page("app_pages/train.py")
    st.caption("Its settings fill the Train page; the number of digits and passes becomes Custom.")
elif len(chosen) == 1:
    st.caption("This file holds no training settings, so it cannot be repeated.")
