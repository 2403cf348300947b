"""The Train page's pieces: its settings form, its run lengths, a training run as a job's work, and the view of a run."""
