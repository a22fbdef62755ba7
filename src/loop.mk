## src/loop.mk - see src/local.mk
