## tests/run.mk - see tests/local.mk
