"""Session-state keys, in one place so pages agree on them.

Widgets' own keys ("train:arch", "lab:depth", ...) sit beside their defaults in the module that draws
them; ui.widget_state keeps their values across pages.
"""

ACTIVE_MODEL = "active_model"  # ui.models.model_list.ModelEntry the pages use, or absent: the first starter
MODEL_CHOICE = "model_choice"  # the sidebar's "Model in use" box: a position in ui.models.model_list.session_models()
OWN_MODELS = "own_models"  # this session's runs and uploads: list of ui.models.model_list.ModelEntry
JOBS = "jobs"  # slot ("run", "twins", "sweep") -> ui.jobs.job.Job the page URL names (ui.jobs.session)
TEACHER = "teacher"  # True once this session entered the teacher code (ui.teacher)
OWNER_TOKEN = "owner_token"  # this session's secret: it stops the jobs it started (ui.jobs.job.Job); never in a URL
ADOPTED_UPLOAD = "adopted_upload"  # (file_id, why it was refused or None) of the checkpoint upload tried last
ADOPTED_JOB = "adopted_job"  # id of the job whose model this session made active (once), or absent
KEPT_WIDGETS = "kept_widgets"  # keys of the widgets whose values outlive a page change (ui.widget_state)
DRAWING = "drawing"  # last non-empty canvas as (H, W, 4) uint8, for Draw and Feature Maps
CANVAS = "canvas"  # the drawable canvas widget (its key, with ui.drawing.canvas's version after it)
CANVAS_STATE = "canvas_state"  # ui.drawing.canvas, + ":name": a canvas's version, strokes and a picture per stroke
TEACH_DRAWING = "teach_drawing"  # the Teach page's canvas, like DRAWING
TEACH_EXAMPLES = "teach_examples"  # the Teach page's examples: list of (class position, (1, 1, 28, 28) tensor)
TEACH_NAMES = "teach_names"  # the Teach page's last valid symbol names
TAUGHT = "taught"  # resnet_core.training.finetune.FineTuned of this session, or absent
TEST_IMAGE = "test_image"  # ui.input_picker, + ":name": the position of the test image a page's picker chose
TRAIN_PREFILL = "train_prefill"  # widget key -> value: a past run's settings for the Train page to start from
