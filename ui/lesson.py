"""The app's pages in lesson order, by section: the sidebar's navigation and Overview's "Start here"
path are both made from this list, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    path: str  # the page's script
    title: str
    icon: str
    what: str  # Overview's line for it: what the class does there


OVERVIEW = "app_pages/overview.py"  # the first page, where the path starts

LESSON: dict[str, tuple[Step, ...]] = {
    "The idea": (
        Step(OVERVIEW, "Overview", ":material/home:", "what a residual block is, and the networks"),
        Step(
            "app_pages/convolution.py",
            "Convolution",
            ":material/grid_on:",
            "a filter slides over a digit: the sums that make a feature map",
        ),
    ),
    "Why shortcuts": (
        Step(
            "app_pages/residual_lab.py",
            "Residual Lab",
            ":material/science:",
            "the same net with and without shortcuts: which one learns, and why",
        ),
    ),
    "Inside": (
        Step(
            "app_pages/architecture.py", "Architecture", ":material/account_tree:", "pick a depth and read every layer"
        ),
        Step("app_pages/feature_maps.py", "Feature Maps", ":material/layers:", "see what each layer saw in a digit"),
    ),
    "Try it": (
        Step("app_pages/draw.py", "Draw & Predict", ":material/draw:", "draw a digit and watch the model's answer"),
        Step(
            "app_pages/train.py",
            "Train",
            ":material/model_training:",
            "train your own ResNet on the digits (a trained one is ready already)",
        ),
        Step(
            "app_pages/mistakes.py",
            "Why it fails",
            ":material/troubleshoot:",
            "the digits it gets wrong, and where it looked",
        ),
        Step("app_pages/teach.py", "Teach it", ":material/school:", "teach a copy new symbols from a few drawings"),
        Step("app_pages/runs.py", "Runs", ":material/table_chart:", "every run and checkpoint side by side"),
    ),
}


def path_from_overview() -> list[Step]:
    """Every page after Overview, in lesson order: Overview's "Start here" list."""
    return [step for steps in LESSON.values() for step in steps if step.path != OVERVIEW]


def page_of(url_path: str) -> str | None:
    """The script of the lesson page at this URL path ("residual_lab"; "" is Overview), None if none is."""
    if not url_path:
        return OVERVIEW
    return next(
        (step.path for steps in LESSON.values() for step in steps if step.path.endswith(f"/{url_path}.py")), None
    )
