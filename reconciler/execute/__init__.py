"""execute stage."""
