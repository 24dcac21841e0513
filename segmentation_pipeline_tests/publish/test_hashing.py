"""DuckDB's SHA-256 of many values gives hashlib's digests of their UTF-8 bytes, in the values' order."""

import hashlib

import pandas as pd

from segmentation_pipeline.core.publish.hashing import sha256_first_8_bytes, sha256_hex

VALUES = pd.Series(["foo@example.com", "jörg@exämple.de", "客户", "it's", 'a "b"', ""] * 1000, index=range(6000, 0, -1))
PREFIX = "s'alt\";--:"


def test_hex_digests_and_first_8_bytes_are_hashlibs_in_order():
    digests = [hashlib.sha256(f"{PREFIX}{value}".encode()).digest() for value in VALUES]
    assert sha256_hex(VALUES, PREFIX).to_pylist() == [digest.hex() for digest in digests]
    assert sha256_first_8_bytes(VALUES, PREFIX).tolist() == [int.from_bytes(d[:8], "big") for d in digests]
    assert sha256_hex(VALUES[:2]).to_pylist() == [hashlib.sha256(value.encode()).hexdigest() for value in VALUES[:2]]


def test_no_values_no_digests():
    assert sha256_hex(pd.Series([], dtype="str")).to_pylist() == []
    assert sha256_first_8_bytes(pd.Series([], dtype="str"), PREFIX).tolist() == []
