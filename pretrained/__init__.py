"""The shipped models: ``NAME.onnx`` (decoder) and ``NAME.encoder.onnx`` per model (package data)."""
