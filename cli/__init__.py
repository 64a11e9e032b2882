"""The ``gridkit`` command line (installed as the import package ``gridkit_cli``)."""
