"""Independent implementations the tests check ours against; never shipped."""
