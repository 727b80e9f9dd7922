"""Training: typed configs with presets, the training loop (one process or DistributedDataParallel), and
checkpoints as safetensors weights plus JSON."""
