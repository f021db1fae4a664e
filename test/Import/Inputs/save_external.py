#!/usr/bin/python3
"""Re-saves an ONNX model with its larger initializers in `weights.bin` beside it."""
import sys

import onnx

model = onnx.load(sys.argv[1])
onnx.save_model(model, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True,
                location="weights.bin", size_threshold=256)
