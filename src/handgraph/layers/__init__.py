"""Reusable graph layers: SIA-GCN, the plain GCN baseline, graph-transformer blocks and structural encodings."""
