"""The pytest plugin lrkd registers (entry point pytest11): the `claim_regression` fixture."""
