"""Graphviz (DOT) drawings of residual blocks and of a whole network's stages."""

from __future__ import annotations

FONT_SIZE = 18  # in the drawing's units; ui/style.py makes the page keep it (about 24 px on screen)
_STYLE = (
    f'graph [rankdir=TB, fontname="Helvetica", fontsize={FONT_SIZE}]; '
    f'node [shape=box, style="rounded,filled", fillcolor="#eef5fb", fontname="Helvetica", fontsize={FONT_SIZE}]; '
    f'edge [fontname="Helvetica", fontsize={FONT_SIZE}];'
)


def basic_block() -> str:
    return f"""digraph {{ {_STYLE}
    x [label="x", shape=ellipse, fillcolor="#ffffff"];
    c1 [label="3x3 conv, BN, ReLU"]; c2 [label="3x3 conv, BN"];
    add [label="+", shape=circle, fillcolor="#fde0c5"]; out [label="ReLU → out", shape=ellipse, fillcolor="#ffffff"];
    x -> c1; c1 -> c2; c2 -> add [label=" F(x)"]; x -> add [label=" x (identity)", style=dashed, color="#e6550d"];
    add -> out; }}"""


def bottleneck_block() -> str:
    return f"""digraph {{ {_STYLE}
    x [label="x (4w channels)", shape=ellipse, fillcolor="#ffffff"];
    c1 [label="1x1 conv → w, BN, ReLU"]; c2 [label="3x3 conv w, BN, ReLU"]; c3 [label="1x1 conv → 4w, BN"];
    add [label="+", shape=circle, fillcolor="#fde0c5"]; out [label="ReLU → out", shape=ellipse, fillcolor="#ffffff"];
    x -> c1; c1 -> c2; c2 -> c3; c3 -> add [label=" F(x)"]; x -> add [label=" x (identity)", style=dashed, color="#e6550d"];
    add -> out; }}"""


def network_stages(
    arch: str, block: str, blocks_per_stage: tuple[int, ...], shapes: dict[str, tuple[int, ...]], stem: str = ""
) -> str:
    """The stem (with what it is, when given), each stage with its block count and output shape, and the classifier."""

    def shape(name: str) -> str:
        return "×".join(str(d) for d in shapes[name][1:])

    nodes = [
        'input [label="digit\\n1×28×28", shape=ellipse, fillcolor="#ffffff"]',
        f'stem [label="stem{": " + stem if stem else ""}\\n{shape("stem")}"]',
    ]
    for i, count in enumerate(blocks_per_stage, start=1):
        nodes.append(f'layer{i} [label="layer{i}: {count} × {block}\\n{shape(f"layer{i}")}"]')
        # Each block's shortcut, drawn as in the block diagrams: a dashed orange arrow around it.
        shortcuts = "1 shortcut" if count == 1 else f"{count} shortcuts"
        nodes.append(f'layer{i} -> layer{i} [label=" {shortcuts}", style=dashed, color="#e6550d", fontcolor="#e6550d"]')
    nodes.append(f'fc [label="avg-pool + fc\\n{shape("fc")} classes", fillcolor="#fde0c5"]')
    stages = [f"layer{i}" for i in range(1, len(blocks_per_stage) + 1)]
    chain = " -> ".join(["input", "stem", *stages, "fc"])
    # Top to bottom: in its half-width column a left-to-right chain of seven nodes shrank
    # to unreadable text; stacked, each label keeps the size of the block diagrams'.
    return f'digraph {{ {_STYLE} label="{arch}"; {"; ".join(nodes)}; {chain}; }}'
