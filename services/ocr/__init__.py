"""Match-result recorder: result-screen screenshots and photos -> structured match records (see docs/ocr.md)."""
