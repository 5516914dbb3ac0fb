"""Tests of keys and signatures for certificates."""
