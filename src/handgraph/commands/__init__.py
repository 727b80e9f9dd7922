"""The subcommands of ``handgraph``; each module maps its arguments onto library functions."""
