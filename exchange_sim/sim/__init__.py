"""The SimPy shell: kernel with named phases, latency models, links and the run lifecycle."""
