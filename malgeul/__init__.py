"""Malgeul: Korean/English conversational-AI and speech services behind one gateway."""

__version__ = "0.1.0"
