"""Command-line interface: one module per subcommand, discovered by ``main``."""
