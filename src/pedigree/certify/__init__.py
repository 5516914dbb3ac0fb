"""Keys, signatures, certificates, bundles, verification.

Named signing keys (``keys``), DSSE v1 envelopes (``dsse``), certificates and their
bundles (``certificate``) and offline verification (``verify``).
"""

from pedigree.certify import dsse
from pedigree.certify.dsse import EnvelopeError, VerifiedPayload, pae
from pedigree.certify.keys import (
    ALGORITHMS,
    KeyInfo,
    Keyring,
    Signer,
    generate,
    key_id,
    list_keys,
    load_public_pem,
    load_signer,
    public_pem,
    trusted_keys,
)

__all__ = [
    "ALGORITHMS",
    "EnvelopeError",
    "KeyInfo",
    "Keyring",
    "Signer",
    "VerifiedPayload",
    "dsse",
    "generate",
    "key_id",
    "list_keys",
    "load_public_pem",
    "load_signer",
    "pae",
    "public_pem",
    "trusted_keys",
]
