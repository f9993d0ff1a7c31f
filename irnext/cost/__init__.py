"""Cost of a model: parameters and MACs from three counters, latency, memory and scaling."""
