"""Roboflow's import path of the pipeline watchdogs."""

from inference_stream.watchdog import BasePipelineWatchDog, NullPipelineWatchdog, PipelineWatchDog

__all__ = ["BasePipelineWatchDog", "NullPipelineWatchdog", "PipelineWatchDog"]
