"""The `/inference_pipelines` HTTP API: workflow pipelines, each in its own worker process."""
