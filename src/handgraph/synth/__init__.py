"""The built-in synthetic depth-hand generator: a kinematic hand, its surface, an exact ray-cast depth
renderer, a sensor model, labels in every dataset convention, and datasets on disk or on the fly."""
