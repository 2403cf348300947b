"""Files in and out: checkpoints and exports."""
