"""Built-in workflow blocks."""
