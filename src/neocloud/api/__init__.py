"""The REST API (``/v1``), served with the dashboard by ``neocloud serve``."""
