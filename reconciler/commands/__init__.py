"""One module per subcommand, each with `run(args) -> int`: arguments in, output out; the work
is done by the stage packages (load, reconcile, watch, ui). The arguments of every command are
declared in commands/parsers.py, so that cli.py imports only the module of the command it runs.
Shared runtime helpers (loading the spec from the arguments, connecting) are in common.py."""
