"""Files: other people's formats and our own. Reading any file into checked arrays (each failure one line naming
the file), atomic writes, depth images and recordings, configs, provenance, result files in the community
format, and skeleton pictures."""
