## plugins/infra/run.mk - ansible-playbook runs, callback plugin, lint
