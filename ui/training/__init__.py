"""The Train page's pieces: its settings, its run lengths and the view of a run."""
