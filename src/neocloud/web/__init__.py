"""The web dashboard (issue 5): server-rendered pages over the services."""
