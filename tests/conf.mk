## tests/conf.mk - see tests/local.mk
