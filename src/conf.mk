## src/conf.mk - see src/local.mk
