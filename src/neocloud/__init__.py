"""neocloud: the open-source control plane for running GPU data centers as a cloud."""

__version__ = "0.1.0"
