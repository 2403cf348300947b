"""Session-state keys, in one place so pages agree on them."""

ACTIVE_MODEL = "active_model"  # ui.models.model_list.ActiveModel the pages use, or absent: the first starter
MODEL_CHOICE = "model_choice"  # the sidebar's "Model in use" box: a position in ui.models.model_list.session_models()
OWN_MODELS = "own_models"  # this session's runs and uploads: list of ui.models.model_list.ActiveModel
TRAINING_JOB = "training_job"  # ui.jobs.training_job.TrainingJob of this session, or absent
ADOPTED_UPLOAD = "adopted_upload"  # (file_id, why it was refused or None) of the checkpoint upload tried last
ADOPTED_JOB = "adopted_job"  # id of the job whose model this session made active (once), or absent
DRAWING = "drawing"  # last non-empty canvas as (H, W, 4) uint8, for Draw and Feature Maps
CANVAS = "canvas"  # the drawable canvas widget (its key, with ui.drawing.canvas's version after it)
CANVAS_STATE = (
    "canvas_state"  # ui.drawing.canvas, + ":name": a canvas's version, strokes and a picture after each stroke
)
TEACH_DRAWING = "teach_drawing"  # the Teach page's canvas, like DRAWING
TEACH_EXAMPLES = "teach_examples"  # the Teach page's examples: list of (class position, (1, 1, 28, 28) tensor)
TEACH_NAMES = "teach_names"  # the Teach page's last valid symbol names
TAUGHT = "taught"  # resnet_core.training.finetune.FineTuned of this session, or absent
DIGIT_INDEX = "digit_index"  # test image picked on the Feature Maps page
OWNER_TOKEN = (
    "owner_token"  # this session's secret: it stops the runs it started (ui.jobs.training_job.OwnedRun); never in a URL
)
LAB_TWINS = "lab_twins"  # ui.jobs.lab_job.LabJob: this session's last twin run, or absent
LAB_SWEEP = "lab_sweep"  # ui.jobs.lab_job.LabJob: this session's last depth sweep, or absent
LAB_SETTINGS = "lab_settings"  # the Residual Lab's digits, epochs and depth, kept across page changes
TRAIN_PREFILL = "train_prefill"  # widget key -> value: a past run's settings for the Train page to start from
