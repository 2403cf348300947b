"""The Residual Lab's pieces: charts, sections that poll its runs, and the sentences that read them."""
