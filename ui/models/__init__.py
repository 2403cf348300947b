"""The session's model list, choosing and loading models, the table of every run, and examinations."""
