"""HOT, Heat's template language: its versions, sections, parameters and intrinsic functions."""
