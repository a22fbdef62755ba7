## plugins/infra/local.mk - the Ansible capability plugin
