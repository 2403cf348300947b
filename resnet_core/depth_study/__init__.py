"""The depth study: a residual net and its plain twin trained step for step, and sweeps over depth."""
