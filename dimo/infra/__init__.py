"""Run infrastructure: workdirs, locks, checkpoint integrity, guards, fault injection, process settings."""
