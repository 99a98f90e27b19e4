"""Normalisation: a (schema-checked) spec document -> the frozen values of model/spec.py.

Every reader here is defensive: a value of the wrong shape becomes a located Problem, never an
exception, so that loading reports everything at once. `normalizer.Normalizer` runs the
sections (`images`, `containers`, `resources` for networks and volumes) over the shared field
readers (`fields`); `scalars` parses the single values (ports, durations, image references,
host paths). Called by load/loader.py; the cross-entry checks live in load/semantics.py.
"""
