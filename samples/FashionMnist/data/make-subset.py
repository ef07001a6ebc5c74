#!/usr/bin/env python3
"""Makes the small Fashion-MNIST subset bundled with the sample, from the full data set.

The sample trains on it when the full data set is not installed, so that its run command works on any
machine. Source: Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), which
installs the original IDX files into /usr/share/datasets/fashion-mnist. Fashion-MNIST is © Zalando SE,
MIT license (see LICENSE in this folder).

usage: make-subset.py [SOURCE_DIR] [TRAIN_COUNT] [TEST_COUNT]
"""
import gzip, os, struct, sys

source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
counts = {"train": int(sys.argv[2]) if len(sys.argv) > 2 else 4000,
          "t10k": int(sys.argv[3]) if len(sys.argv) > 3 else 1000}
here = os.path.dirname(os.path.abspath(__file__))

for split, count in counts.items():
    for kind, dims in (("images", 3), ("labels", 1)):
        name = f"{split}-{kind}-idx{dims}-ubyte.gz"
        with gzip.open(os.path.join(source, name), "rb") as f:
            magic = f.read(4)
            shape = struct.unpack(">" + "I" * dims, f.read(4 * dims))
            item = 1
            for d in shape[1:]:
                item *= d
            data = f.read(count * item)
        # The first COUNT items: the data set's own order is already shuffled across classes.
        with gzip.GzipFile(os.path.join(here, name), "wb", mtime=0) as out:
            out.write(magic + struct.pack(">" + "I" * dims, count, *shape[1:]) + data)
        print(f"{name}: {count} of {shape[0]}")
