"""The synthetic-shapes fixture models: data, networks, training, ONNX export and evaluation.

``tools/train_fixtures.py`` is the command line; each task lives in its own
module (detect, segment, pose, classify). Needs ``tools/`` on ``sys.path``
(for ``synthetic_shapes``), as the command line arranges.
"""
