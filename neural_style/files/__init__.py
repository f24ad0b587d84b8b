"""Files and images around the computation: files/images.py (reading, sizing, writing pictures),
files/output_folder.py (the output folder: its lock, atomic writes, --overwrite)."""

# The name a tool takes for stdin (an image read) or stdout (an image written, as PNG). Here rather
# than in files/images.py, so that the flags can name it without loading scikit-image.
STDIO = '-'
