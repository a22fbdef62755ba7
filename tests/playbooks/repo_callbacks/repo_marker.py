# repo_marker.py - a callback of the sample repo itself.  When
# REPO_MARKER_FILE is set it appends one line per playbook run, so the
# tests can see that the repo's own callbacks still run next to chiffon's.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: repo_marker
    type: aggregate
    short_description: test marker
    description: [writes a line to $REPO_MARKER_FILE per playbook]
'''

import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'repo_marker'
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        path = os.environ.get('REPO_MARKER_FILE')
        if path:
            with open(path, 'a') as f:
                f.write('%s\n' % os.path.basename(playbook._file_name))
