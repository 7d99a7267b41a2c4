"""lrkd.testing: for users' own test suites (hypothesis strategies, verdict assertions)."""
