"""Composition root and command line: the only package that knows every adapter."""
