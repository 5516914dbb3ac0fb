"""File and table fingerprints."""

from pedigree.fingerprint.files import FileFingerprint, file_fingerprint

__all__ = ["FileFingerprint", "file_fingerprint"]
