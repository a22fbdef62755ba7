# chiffon_events.py - Ansible callback plugin that chiffon enables for the
# playbook runs it starts.  It writes one JSON object per line, in the style
# of ansible-runner's events, to the file descriptor named by the
# CHIFFON_EVENT_FD environment variable (a pipe chiffon reads).
#
# It never breaks a run: without CHIFFON_EVENT_FD, or when the pipe fails,
# it does nothing.  no_log results are never written, only a marker.  A
# result whose JSON exceeds 700 KB is replaced by a bounded copy carrying
# "_chiffon_truncated": true.
#
# Works with ansible-core 2.12 and later (Debian 12 ships 2.14).
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: chiffon_events
    type: aggregate
    short_description: structured events for chiffon
    description:
      - Writes one JSON object per event to the file descriptor in
        CHIFFON_EVENT_FD (ansible-runner style event names and fields).
    requirements:
      - enabled through callbacks_enabled (chiffon does this for its runs)
'''

import datetime
import json
import os
import threading
import time
import uuid

from ansible.plugins.callback import CallbackBase

# Results larger than this (as JSON) are truncated.
RESULT_MAX = 700 * 1024
# Keys kept from a truncated result (each bounded to KEEP_MAX characters).
KEEP_KEYS = ('msg', 'changed', 'failed', 'rc', 'dest', 'path', 'name',
             'state', 'stderr', 'unreachable', 'skipped', 'item',
             'project_name')
KEEP_MAX = 4096
CENSORED = ("the output has been hidden due to the fact that "
            "'no_log: true' was specified for this result")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'chiffon_events'
    CALLBACK_NEEDS_ENABLED = True
    CALLBACK_NEEDS_WHITELIST = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self._fd = None
        self._lock = threading.Lock()
        self._counter = 0
        self._playbook = None
        self._play = None
        self._play_uuid = None
        self._task = None
        self._starts = {}
        fd = os.environ.get('CHIFFON_EVENT_FD')
        if not fd:
            return
        try:
            fd = int(fd)
            os.fstat(fd)
            # Workers fork (and keep it until they exit); modules and
            # async wrappers are exec'd and must not hold the pipe open.
            os.set_inheritable(fd, False)
            self._fd = fd
        except (ValueError, OSError):
            self._fd = None

    # -- writing ----------------------------------------------------------

    def _write(self, data):
        if self._fd is None:
            return
        with self._lock:
            self._counter += 1
            data['counter'] = self._counter
            try:
                line = json.dumps(data, default=str, separators=(',', ':'))
            except Exception:
                line = json.dumps({k: data[k] for k in ('event', 'uuid',
                                  'counter', 'created', 'pid')
                                   if k in data})
            buf = (line + '\n').encode('utf-8', 'replace')
            try:
                while buf:
                    n = os.write(self._fd, buf)
                    buf = buf[n:]
            except OSError:
                # The reader went away: stop writing, keep the run going.
                self._fd = None

    def _base(self, event):
        return {
            'event': event,
            'uuid': str(uuid.uuid4()),
            'created': datetime.datetime.utcnow().isoformat() + 'Z',
            'pid': os.getpid(),
            'playbook': self._playbook,
            'play': self._play,
            'play_uuid': self._play_uuid,
        }

    def _task_fields(self, data, task):
        if task is None:
            return
        try:
            data['task'] = task.get_name().strip()
            data['task_action'] = task.action
            data['task_uuid'] = task._uuid
            data['task_path'] = task.get_path()
        except Exception:
            pass

    @staticmethod
    def _bounded(res):
        try:
            text = json.dumps(res, default=str)
        except Exception:
            return {'_chiffon_truncated': True,
                    'msg': 'result could not be encoded as JSON'}
        if len(text) <= RESULT_MAX:
            return json.loads(text)
        out = {'_chiffon_truncated': True, '_chiffon_size': len(text)}
        for k in KEEP_KEYS:
            if k in res:
                v = res[k]
                if isinstance(v, (bool, int, float)) or v is None:
                    out[k] = v
                else:
                    s = v if isinstance(v, str) else json.dumps(v, default=str)
                    out[k] = s[:KEEP_MAX]
        return out

    @staticmethod
    def _censor(res, task):
        """Return a copy with every no_log result replaced by a marker."""
        if not isinstance(res, dict):
            return res
        no_log = bool(res.get('_ansible_no_log'))
        try:
            no_log = no_log or bool(task is not None and task.no_log)
        except Exception:
            pass
        if no_log:
            out = {'censored': CENSORED, '_ansible_no_log': True}
            for k in ('changed', 'failed', 'skipped', 'unreachable'):
                if k in res:
                    out[k] = res[k]
            return out
        if isinstance(res.get('results'), list):
            res = dict(res)
            res['results'] = [CallbackModule._censor(r, None)
                              for r in res['results']]
        return res

    def _result_event(self, event, result, **extra):
        task = getattr(result, '_task', None)
        data = self._base(event)
        self._task_fields(data, task)
        host = result._host.get_name() if result._host else None
        data['host'] = host
        res = self._censor(result._result, task)
        data['changed'] = bool(res.get('changed', False))
        data['failed'] = bool(res.get('failed', False)) or \
            event in ('runner_on_failed', 'runner_item_on_failed')
        key = (host, data.get('task_uuid'))
        start = self._starts.get(key)
        if start is not None:
            data['duration'] = round(time.time() - start, 6)
            if not event.startswith('runner_item') and \
               event != 'runner_retry':
                self._starts.pop(key, None)
        data['res'] = self._bounded(res)
        data.update(extra)
        self._write(data)

    # -- playbook events ---------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        self._playbook = getattr(playbook, '_file_name', None)
        self._write(self._base('playbook_on_start'))

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name().strip()
        self._play_uuid = getattr(play, '_uuid', None)
        data = self._base('playbook_on_play_start')
        try:
            data['pattern'] = ','.join(play.hosts) \
                if isinstance(play.hosts, list) else play.hosts
        except Exception:
            pass
        self._write(data)

    def _task_start(self, event, task):
        self._task = task
        data = self._base(event)
        self._task_fields(data, task)
        self._write(data)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start('playbook_on_task_start', task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start('playbook_on_handler_task_start', task)

    def v2_playbook_on_cleanup_task_start(self, task):
        self._task_start('playbook_on_cleanup_task_start', task)

    def v2_playbook_on_no_hosts_matched(self):
        self._write(self._base('playbook_on_no_hosts_matched'))

    def v2_playbook_on_no_hosts_remaining(self):
        self._write(self._base('playbook_on_no_hosts_remaining'))

    def v2_playbook_on_stats(self, stats):
        data = self._base('playbook_on_stats')
        per_host = {}
        for host in sorted(stats.processed.keys()):
            s = stats.summarize(host)
            per_host[host] = {
                'ok': s.get('ok', 0),
                'changed': s.get('changed', 0),
                'failures': s.get('failures', 0),
                'unreachable': s.get('unreachable', 0),
                'skipped': s.get('skipped', 0),
                'rescued': s.get('rescued', 0),
                'ignored': s.get('ignored', 0),
            }
        data['stats'] = per_host
        self._write(data)

    # -- runner events -----------------------------------------------------

    def v2_runner_on_start(self, host, task):
        name = host.get_name()
        self._starts[(name, task._uuid)] = time.time()
        data = self._base('runner_on_start')
        self._task_fields(data, task)
        data['host'] = name
        self._write(data)

    def v2_runner_on_ok(self, result):
        self._result_event('runner_on_ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result_event('runner_on_failed', result,
                           ignore_errors=bool(ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._result_event('runner_on_skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._result_event('runner_on_unreachable', result)

    def v2_runner_item_on_ok(self, result):
        self._result_event('runner_item_on_ok', result)

    def v2_runner_item_on_failed(self, result):
        self._result_event('runner_item_on_failed', result)

    def v2_runner_item_on_skipped(self, result):
        self._result_event('runner_item_on_skipped', result)

    def v2_runner_retry(self, result):
        self._result_event('runner_retry', result)

    def v2_runner_on_async_ok(self, result):
        self._result_event('runner_on_async_ok', result)

    def v2_runner_on_async_failed(self, result):
        self._result_event('runner_on_async_failed', result)
