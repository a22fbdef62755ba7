## tests/core.mk - see tests/local.mk
