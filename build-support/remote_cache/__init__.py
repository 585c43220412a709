"""Set-up for the remote-cache test and benchmark: BuildGrid, a REAPI server, on 127.0.0.1."""
