"""Entity resolution: candidate pairs, analysts' judgements and the clusters they make.

Pure code (no database, no HTTP): :mod:`recoupe.resolve.clusters` turns scored pairs and
judgements into clusters with the joins that explain them.
"""
