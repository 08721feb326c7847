"""Exit 0 when two gpmc files hold bitwise-identical datasets under the given groups.

usage: h5same.py A.h5 B.h5 GROUP...   (e.g. trials points)
Bitwise: NaN payloads and signed zeros count, so it compares the raw bytes.
"""
import sys

import h5py
import numpy as np


def datasets(f, group):
    out = {}
    if group not in f:
        return out

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[group + "/" + name] = obj[()]

    f[group].visititems(visit)
    return out


def main():
    a_path, b_path, groups = sys.argv[1], sys.argv[2], sys.argv[3:]
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for g in groups:
            da, db = datasets(a, g), datasets(b, g)
            if set(da) != set(db):
                print(f"differ: {g}: datasets {sorted(set(da) ^ set(db))}")
                return 1
            if not da:
                print(f"differ: {g}: no datasets in either file")
                return 1
            for name in sorted(da):
                x, y = np.ascontiguousarray(da[name]), np.ascontiguousarray(db[name])
                if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
                    print(f"differ: {name}")
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
