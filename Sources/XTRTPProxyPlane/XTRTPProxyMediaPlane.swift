// Stub while the kernel helper writes this target.
