"""tanet: the coordinator's toolkit for a trauma-informed practice network."""

__version__ = "0.3.0.dev0"
