"""Job kinds and the workers that run them (refits, calibration sweeps)."""
