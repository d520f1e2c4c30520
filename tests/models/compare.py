#!/usr/bin/python3
"""Compares a run's outputs with the expected ones: for every EXPECTED_DIR/<name>.npy, ACTUAL_DIR/<name>.npy
must exist, have the same shape, and be within a relative L2 error ||a - e|| / ||e|| <= TOLERANCE.
Prints one line per output; exits 1 if any output is missing or off.

    /usr/bin/python3 tests/models/compare.py EXPECTED_DIR ACTUAL_DIR [--tolerance 1e-4]
"""
import argparse
import pathlib
import sys

import numpy as np


def compare(name, expected, actual, tolerance):
    if actual.shape != expected.shape:
        return False, f"{name}: shape {list(actual.shape)}, expected {list(expected.shape)}"
    if actual.dtype != expected.dtype:
        return False, f"{name}: element type {actual.dtype}, expected {expected.dtype}"
    e = expected.astype(np.float64)
    a = actual.astype(np.float64)
    if not np.all(np.isfinite(a)):
        return False, f"{name}: {int(np.size(a) - np.isfinite(a).sum())} values are not finite"
    norm = np.linalg.norm(e)
    error = np.linalg.norm(a - e) / norm if norm > 0 else np.linalg.norm(a)
    max_abs = float(np.max(np.abs(a - e))) if a.size else 0.0
    ok = error <= tolerance
    verdict = "ok" if ok else f"FAILED (tolerance {tolerance:.1e})"
    return ok, f"{name}: relative L2 error {error:.3e}, max abs error {max_abs:.3e} {verdict}"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expected_dir", type=pathlib.Path)
    parser.add_argument("actual_dir", type=pathlib.Path)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    expected_files = sorted(args.expected_dir.glob("*.npy"))
    if not expected_files:
        print(f"no expected outputs (*.npy) in {args.expected_dir}")
        return 1
    all_ok = True
    for expected_file in expected_files:
        name = expected_file.stem
        actual_file = args.actual_dir / expected_file.name
        if not actual_file.exists():
            ok, line = False, f"{name}: missing {actual_file}"
        else:
            ok, line = compare(name, np.load(expected_file), np.load(actual_file), args.tolerance)
        print(line)
        all_ok = all_ok and ok
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
