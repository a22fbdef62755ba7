## plugins/infra/catalog.mk - catalog, inventory, matcher
