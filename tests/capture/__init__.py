"""Tests of the capture SDK."""
