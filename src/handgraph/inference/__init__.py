"""Running a trained network on frames: one interface for PyTorch checkpoints and ONNX files (networks), the
predictor (localise, crop, predict, recentre), tracking through a sequence, ONNX export, and the live camera."""
