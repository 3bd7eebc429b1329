"""One module per view: topology, loss plot, histograms, decision plane."""
