## contrib/local.mk - the demo homelab and helper scripts
