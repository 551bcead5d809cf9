"""Deliverables: accepted clips joined into ``final.mp4``."""
