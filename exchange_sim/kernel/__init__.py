"""The kernel: the phased SimPy environment and the latency models, below everything that waits.

``exchange_sim.kernel.latency`` (latency configs and samplers) does not import simpy, so config
classes can use it; ``exchange_sim.kernel.environment`` is the only module that touches SimPy's
internals.
"""
