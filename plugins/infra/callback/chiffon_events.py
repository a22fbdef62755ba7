# chiffon_events.py - Ansible callback plugin that chiffon makes the stdout
# callback of the playbook runs it starts.  It writes one JSON object per
# line, in the style of ansible-runner's events, to the file descriptor
# named by the CHIFFON_EVENT_FD environment variable (a pipe chiffon
# reads), and passes every call on to the stdout callback named by
# CHIFFON_STDOUT_CALLBACK (the one the repository uses; "default" when
# unset), which prints the output as it would without chiffon.
#
# Why not an aggregate callback next to the stdout one: Ansible gives each
# callback plugin its own deep copy of every task result (TaskResult.
# clean_copy in TaskQueueManager.send_callback); for a task printing
# 100,000 lines that copy alone was 0.3 s.  Wrapping the stdout callback,
# the one copy serves both.
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
    type: stdout
    short_description: structured events for chiffon
    description:
      - Writes one JSON object per event to the file descriptor in
        CHIFFON_EVENT_FD (ansible-runner style event names and fields) and
        passes every call on to the stdout callback in
        CHIFFON_STDOUT_CALLBACK (default "default").
    requirements:
      - set as stdout_callback (chiffon does this for its runs)
'''

import datetime
import json
import os
import threading
import time
import uuid

from ansible.errors import AnsibleError
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
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'chiffon_events'

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        # The wrapped stdout callback, loaded the way Ansible loads its
        # own (an unknown name fails the run as Ansible would).
        from ansible.plugins.loader import callback_loader
        name = os.environ.get('CHIFFON_STDOUT_CALLBACK') or 'default'
        if name in ('chiffon_events', 'chiffon.events'):
            name = 'default'
        self._inner = callback_loader.get(name)
        if self._inner is None:
            raise AnsibleError("Invalid callback for stdout specified: %s"
                               % name)
        self.wants_implicit_tasks = getattr(self._inner,
                                            'wants_implicit_tasks', False)
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

    # -- the wrapped callback ---------------------------------------------

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys,
                                                var_options=var_options,
                                                direct=direct)
        self._inner.set_options(task_keys=task_keys,
                                var_options=var_options, direct=direct)

    def _pass_on(self, name, args, kwargs):
        """Call the wrapped callback's method name, as Ansible would."""
        if getattr(self._inner, 'disabled', False):
            return
        method = getattr(self._inner, name, None)
        if method is None:
            method = getattr(self._inner, name.replace('v2_', '', 1), None)
        if method is not None:
            method(*args, **kwargs)

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
        if getattr(task, 'implicit', False):
            return
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
        if getattr(task, 'implicit', False):
            return      # as an aggregate callback, never told of them
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
        if getattr(task, 'implicit', False):
            return
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


def _wrap(name, own):
    """A method that passes the call on, then records its event (own)."""
    def method(self, *args, **kwargs):
        failure = None
        try:
            self._pass_on(name, args, kwargs)
        except Exception as e:      # reported by Ansible, after our event
            failure = e
        if own is not None:
            own(self, *args, **kwargs)
        if failure is not None:
            raise failure
    method.__name__ = name
    return method


# Every callback method Ansible may call on the stdout callback: the v2_
# methods of CallbackBase (with this plugin's event writers) and
# set_play_context.
for _name in [n for n in dir(CallbackBase)
              if n.startswith('v2_') or n == 'set_play_context']:
    if callable(getattr(CallbackBase, _name, None)):
        _own = CallbackModule.__dict__.get(_name)
        setattr(CallbackModule, _name, _wrap(_name, _own))
del _name, _own
