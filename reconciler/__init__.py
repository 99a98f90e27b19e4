"""reconciler: a declarative, desired-state tool for Docker.

Write down what should run in a YAML spec; `reconciler apply` makes it so and
`reconciler watch` keeps it so. See README.md for the data flow and docs/ for the spec.
"""

__version__ = "0.1.0"
