"""Files in and out: checkpoints, what a checkpoint records of its run, exports and pictures."""
