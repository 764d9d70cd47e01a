"""Use cases: open the workspace, check access, act, and report.

The CLI (and later the API) call these; they call the store interface and the pure
packages, never the other way round.
"""
