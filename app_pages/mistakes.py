"""Why it fails: the model in use on 2,000 test images: per-class accuracy, the confusion matrix's
images, the hardest images, where the model puts every image, and the model to take away."""

import re

import streamlit as st

from resnet_core.data.augment import MNIST_MEAN, MNIST_STD, to_model_input
from resnet_core.data.datasets import DATASETS, DatasetUnavailable, load_split
from resnet_core.digits.preprocess import EmptyDrawing, preprocess_canvas
from resnet_core.files.export import FILE_ENDINGS, ONNX_OPSET, export_bytes
from resnet_core.inside.embedding import penultimate_features
from ui import charts, keys
from ui.attribution_view import where_it_looks
from ui.confusion_view import GALLERY_SIZE, confusion_section
from ui.models.examination import EXAMINED, examine
from ui.models.model_list import active_model
from ui.models.picker import offer_quick_training
from ui.page_end import end_page
from ui.teacher_note import teacher_note

st.title("Why it fails")
teacher_note(
    "Even a network that gets 99 digits in 100 right makes mistakes. Here it is tested on digits it never saw "
    "in training, and every mistake is kept: the grid counts which digit was shown against which it answered.",
    "the squares off the diagonal of the grid, the pairs it mixes up, and the hardest digits, shown under the grid: "
    "would you have read them right?",
)
chosen = active_model()
if chosen is None:
    offer_quick_training("load a checkpoint on the Draw & Predict page")
    end_page()
data = DATASETS[chosen.dataset]
try:
    with st.spinner(f"Testing {chosen.label} on {EXAMINED:,} test {data.items}…"):
        exam = examine(chosen.model, chosen.dataset)
except DatasetUnavailable as err:
    st.error(str(err))
    end_page()
result, classes = exam.result, data.classes
recorded = (
    ""
    if chosen.test_accuracy is None
    else f" The sidebar's {chosen.test_accuracy:.2f}% is the score recorded with the model (for the starters and "
    f"the app's own runs, on all {len(load_split(chosen.dataset, train=False)[1]):,} test {data.items}), so the two "
    "can differ a little."
)
st.caption(
    f"{chosen.label} ({chosen.arch}; choose another in the sidebar), tested here on {EXAMINED:,} {data.title} test "
    f"{data.items} in the test set's own mix of classes, the same ones every time.{recorded}"
)
cols = st.columns(3)
cols[0].metric(f"Right, of these {EXAMINED:,}", f"{result.accuracy:.2f}%")
cols[1].metric("Mistakes", f"{len(result.misclassified):,} of {EXAMINED:,}")
weakest = charts.weakest_classes(result.per_class_accuracy)  # ties as printed: all of them, orange on the chart
cols[2].metric(
    "Weakest class" if len(weakest) == 1 else "Weakest classes",
    f"{', '.join(classes[c] for c in weakest)}: {min(result.per_class_accuracy):.1f}%",
)

st.subheader("Right per class")
st.plotly_chart(charts.per_class_bars(result.per_class_accuracy, classes), config=charts.NO_TOOLBAR)

st.subheader("What it confuses")
in_cell = confusion_section(result, exam.images, chosen.dataset, key="examined-confusion")

st.subheader(f"The hardest {data.items}")
hardest = result.hardest(GALLERY_SIZE)
st.caption(
    f"The {GALLERY_SIZE} {data.items} the model gave the lowest probability for their true class, hardest first; "
    "each caption says the true class, that probability, and what the model answered."
)
st.image(
    [exam.images[i].numpy() for i in hardest],
    width=64,
    caption=[
        f"{classes[result.labels[i]]} {100 * result.true_class_probabilities[i]:.0f}%, said {classes[result.predictions[i]]}"
        for i in hardest
    ],
)

st.subheader(f"Where the model puts each {data.items[:-1]}")
st.caption(
    f"Each dot is one of the {EXAMINED:,} test {data.items}, placed by what the classifier reads (the last stage's "
    f"{exam.projection.axes.shape[0]} averaged channels), squeezed to two directions by PCA "
    f"({100 * sum(exam.projection.explained):.0f}% of their spread). {data.items.capitalize()} the model finds "
    "alike land close together; crosses are the ones it got wrong, usually where two colours meet."
)
drawing_point = None
if chosen.dataset == "mnist" and st.session_state.get(keys.DRAWING) is not None:
    try:
        x = preprocess_canvas(st.session_state[keys.DRAWING]).tensor
        drawing_point = tuple(exam.projection.place(penultimate_features(chosen.model, x))[0].tolist())
    except EmptyDrawing:
        pass  # nothing drawn worth placing
picked = st.plotly_chart(
    charts.embedding_scatter(exam.projection.points.numpy(), result.labels, result.predictions, classes, drawing_point),
    config=charts.NO_TOOLBAR,
    on_select="rerun",
    selection_mode="points",
    key="embedding",
)
clicked = [int(p["customdata"][1]) for p in picked.selection.points if len(p.get("customdata") or []) > 1]

st.subheader("Look closer at one")
candidates = list(dict.fromkeys([*clicked, *in_cell, *hardest]))
position = st.selectbox(
    "Image",
    candidates,
    format_func=lambda i: (
        f"test #{int(exam.positions[i])}: true {classes[result.labels[i]]}, "
        f"said {classes[result.predictions[i]]} ({100 * result.confidences[i]:.0f}%)"
    ),
    help="A dot clicked in the picture above, then the confusion matrix's cell, then the hardest ones.",
)
where_it_looks(
    chosen,
    to_model_input(exam.images[position : position + 1]),
    result.predictions[position],
    classes,
    key="mistakes:where",
    expanded=True,  # this section is the close look asked for
)


st.subheader("Take it away")
st.caption(
    "The model alone, to run without this app: ONNX (opset "
    f"{ONNX_OPSET}) for onnxruntime and most other runtimes, or TorchScript for PyTorch. Input 'image': a batch "
    f"of (N, 1, 28, 28) images, white digit on black, each pixel as (value / 255 - {MNIST_MEAN}) / {MNIST_STD}; "
    "output 'logits': (N, 10) scores, the largest is the answer."
)
name = re.sub(r"[^a-z0-9]+", "-", chosen.source.lower()).strip("-") or "model"
for column, (title, fmt) in zip(st.columns(2), (("ONNX", "onnx"), ("TorchScript", "torchscript"))):
    column.download_button(
        f"Download {title}",
        data=lambda fmt=fmt: export_bytes(chosen.model, fmt),
        file_name=name + FILE_ENDINGS[fmt],
        mime="application/octet-stream",
        icon=":material/download:",
    )
