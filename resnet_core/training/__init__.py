"""Training and evaluation: settings and recipes, the trainer, one run end to end, speed and fine-tuning."""
