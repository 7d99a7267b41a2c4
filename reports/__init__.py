"""lrkd.reports: the validation report (Markdown, HTML, figures, data) and the claims' CI baseline.

plan.py says which experiments a report runs and runs them (shared by `lrkd report` and
`lrkd verify`, whose commands live in lrkd/cli/report.py and lrkd/cli/verify.py); render.py lays
out and writes what validate/ decided, document.py is its document model and writers, figures.py
draws the evidence; baseline.json is the baseline `lrkd verify` compares against.
"""
