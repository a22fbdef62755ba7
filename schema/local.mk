## schema/local.mk - SQL migrations
