## src/plugins.mk - see src/local.mk
