"""`mg.onnx.export(model, example_input, "m.onnx", opset=17)`: a minigrad model as an ONNX graph (for ONNX Runtime and
other engines). The exporter lives in minigrad.interop.onnx (see there); it needs the `onnx` package, an optional
extra (`pip install onnx onnxruntime`), imported only when export is called."""
from .interop.onnx import ExportError, export

__all__ = ["export", "ExportError"]
