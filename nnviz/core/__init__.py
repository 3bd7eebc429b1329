"""The maths of nnviz: networks, training and the statistics the views draw.

Pure NumPy; never imports Qt, so it works from a script or a notebook.
"""
