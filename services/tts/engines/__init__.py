"""Speech engines, one file each, behind the Protocols in `protocols.py`."""
