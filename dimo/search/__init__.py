"""Search methods behind one registry: random, gradient-based (DARTS family), evolution, Hyperband, TPE, verification."""
