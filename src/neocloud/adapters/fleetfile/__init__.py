"""Fleet files: the YAML spec and the node tables beside it."""

from neocloud.adapters.fleetfile.io import dump_spec, load_fleet, load_spec, save_spec

__all__ = ["dump_spec", "load_fleet", "load_spec", "save_spec"]
