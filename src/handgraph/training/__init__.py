"""Training: typed configs with presets and the training loop (one process or DistributedDataParallel).
Checkpoints (safetensors weights plus JSON) are ``handgraph.models.checkpoint``, shared with inference."""
