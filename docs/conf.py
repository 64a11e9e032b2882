"""Sphinx configuration: the guide and references in Markdown (MyST), the API from
the numpydoc docstrings (napoleon). Built by the test suite with warnings as errors:
    python -m sphinx -W -b html docs docs/_build/html
"""

project = "gridkit"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
myst_heading_anchors = 3
html_theme = "alabaster"
nitpicky = False
