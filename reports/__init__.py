"""reports/: the validation report (Markdown, HTML, figures, data) and the claims' CI regression.

main.py runs `lrkd report`, verify.py runs `lrkd verify`, plan.py says which experiments they run,
render.py and figures.py draw what validate/ decided.
"""
