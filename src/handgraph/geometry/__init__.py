"""The bottom layer: geometry and numbers, no I/O. Cameras (uvd <-> xyz), rotations, the canonical skeleton and
every dataset's joint layout, the kinematic hand (forward kinematics and anatomy), the heatmap codec, arrays
that are NumPy or torch alike, and rounding bounds for comparing float results."""
