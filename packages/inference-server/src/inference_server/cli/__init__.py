"""The `inference` command line: server start/stop/status, one-off inference, the model store."""
