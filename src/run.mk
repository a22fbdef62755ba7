## src/run.mk - see src/local.mk
