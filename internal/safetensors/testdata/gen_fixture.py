#!/usr/bin/env python3
"""Generates the safetensors fixtures that safetensors_test.go compares byte for byte.

Run once with the reference implementation (pip install safetensors numpy; written with
safetensors 0.8.0, numpy 2.4.6):

    python3 gen_fixture.py

The values are chosen to be easy to restate in Go (see fixtureTensors in the test). Only one
metadata key is used because the reference writes metadata keys in hash order.
"""
import numpy as np
from safetensors.numpy import save

tensors = {
    "weight": (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5) / 4,  # F32 (2, 3)
    "bias": np.array([0.1, -1e-30, 3.4e38], dtype=np.float32),         # F32 (3,)
    "scalar": np.array(2.0, dtype=np.float32),                         # F32 ()
    "empty": np.zeros((0, 3), dtype=np.float32),                       # F32 (0, 3)
    "moment": np.array([1.0 / 3.0, -0.0, 1e300]),                      # F64 (3,)
    "step": np.array([7, -2], dtype=np.int64),                         # I64 (2,)
    "mask": np.array([1, 0, 255], dtype=np.uint8),                     # U8 (3,)
}
with open("fixture.safetensors", "wb") as f:
    f.write(save(tensors, metadata={"note": 'µ "quoted"\ttab\nline\x01'}))
with open("empty.safetensors", "wb") as f:
    f.write(save({}))
