"""The Residual Lab's pieces: its settings, its runs as job work, charts, live sections and their sentences."""
