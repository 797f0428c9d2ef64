"""The fit file's integrity record: one SHA-256 over everything stored (posterior, runs, law spec,
priors, settings, diagnostics, structural term), so that an edit of any part is seen on load.

The digest runs over a canonical form of the DataTree, the same before writing and after reading:
each node (by path), each of its own variables (by name: dimensions, shape, and the values as
float64 / int64 / UTF-8 text), its attributes (JSON, NumPy scalars and arrays as plain values),
every variable's attributes, and nothing of the file's encoding.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

__all__ = ["tree_digest", "DIGEST_KEY"]

#: The attribute of the ``bayes_scaling`` group that holds the digest (left out of it).
DIGEST_KEY = "fit_sha256"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _attrs(attrs) -> bytes:
    clean = {str(k): _plain(v) for k, v in attrs.items() if k != DIGEST_KEY}
    return json.dumps(clean, sort_keys=True, default=str).encode()


def _values(arr: np.ndarray) -> bytes:
    kind = arr.dtype.kind
    if kind in "USO":
        return "\x1f".join(str(v) for v in arr.ravel()).encode("utf-8", "surrogatepass")
    if kind == "b":
        return arr.astype(np.uint8).tobytes()
    if kind in "iu":
        return arr.astype(np.int64).tobytes()
    if kind == "f":
        return arr.astype(np.float64).tobytes()
    if kind in "mM":
        return arr.astype("int64").tobytes()
    return repr(arr.tolist()).encode()


def tree_digest(tree) -> str:
    """SHA-256 (hex) of a DataTree's canonical form."""
    h = hashlib.sha256()
    for node in sorted(tree.subtree, key=lambda n: n.path):
        ds = node.to_dataset(inherit=False)
        h.update(f"node {node.path}".encode())
        h.update(_attrs(ds.attrs))
        for name in sorted(str(k) for k in ds.variables):
            var = ds.variables[name]
            arr = np.asarray(var.values)
            h.update(f"var {name} {tuple(var.dims)} {arr.shape}".encode())
            h.update(_values(arr))
            h.update(_attrs(var.attrs))
    return h.hexdigest()
