"""Sphinx extensions used to build the memwall book."""
