"""ukdac's policy pack: the rules that keep environments, and prod above all, safe."""
