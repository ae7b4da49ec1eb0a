"""Test helpers shipped with core so that every backend package runs the same checks."""
