"""thidua: the application: configuration, CLI, wiring, domain services, channels and the sandbox."""
