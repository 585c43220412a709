"""Which sources a build read, and how provenance and the component name them (see `checkout`)."""
